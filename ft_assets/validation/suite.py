"""Validate labeled examples with a Great Expectations 1.x suite and split them into valid and quarantined.

A row failing several rules is quarantined once, under the first rule it fails, in the order
ingest_ok (only when the frame has `ingest_error`), text_not_blank, text_length, label_allowed,
label_conflict. Later rules only see rows that passed the earlier ones (see `checks`), so e.g. a
blank text never counts towards a label conflict, and each summary's unexpected_count is the number
of rows that rule quarantined. The one overlap: ingest_ok and the text rules look at every row, so an
unreadable record with no text counts in both summaries and is quarantined under ingest_ok.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from ft_assets.validation import checks, reasons
from ft_assets.validation.gx_runner import GxRunner, RuleResult, shared_runner
from ft_assets.validation.outcome import MAX_SAMPLES, ExpectationSummary, ValidationOutcome, sample_values
from ft_assets.validation.rules import (
    INGEST_OK,
    LABEL_ALLOWED,
    LABEL_CONFLICT,
    ROW_RULES,
    TEXT_LENGTH,
    TEXT_NOT_BLANK,
    ValidationRules,
)

REQUIRED_COLUMNS = ("text", "label", "source_file", "source_line")

# rule -> (reasons for the rejected positions, the input values to show as samples)
Explainer = dict[str, tuple[Callable[[Sequence[int]], list[str]], pd.Series]]


class _Ledger:
    """Collects, stage by stage, which rows were rejected and the summary of each expectation."""

    def __init__(self, n_rows: int) -> None:
        self.rejected: dict[int, tuple[str, str]] = {}  # position -> (rule, reason)
        self.summaries: list[ExpectationSummary] = []
        self._n_rows = n_rows

    def record(self, results: list[RuleResult], explain: Explainer) -> None:
        for result in sorted(results, key=lambda r: ROW_RULES.index(r.rule)):
            describe, samples = explain[result.rule]
            positions = list(result.unexpected_index)
            for position, reason in zip(positions, describe(positions), strict=True):
                self.rejected.setdefault(position, (result.rule, reason))
            self.summaries.append(_summary(result, sample_values(samples.iloc[positions])))

    def survivors(self) -> pd.Series:
        mask = pd.Series(True, index=pd.RangeIndex(self._n_rows))
        mask.iloc[list(self.rejected)] = False
        return mask


def _summary(result: RuleResult, samples: tuple[str, ...]) -> ExpectationSummary:
    return ExpectationSummary(
        name=result.rule,
        expectation_type=result.expectation_type,
        description=result.description,
        success=result.success,
        unexpected_count=result.unexpected_count,
        element_count=result.element_count,
        sample_unexpected=samples,
    )


def validate_examples(df: pd.DataFrame, rules: ValidationRules | None = None) -> ValidationOutcome:
    """Run the validation suite on `df` (text, label, source_file, source_line; optional ingest_error)."""
    rules = ValidationRules() if rules is None else rules
    missing = [column for column in REQUIRED_COLUMNS if column not in df.columns]
    if missing:
        raise ValueError(f"cannot validate: missing column(s) {missing}; have {list(df.columns)}")
    rows = df.reset_index(drop=True)
    runner = shared_runner()
    ledger = _Ledger(len(rows))
    keys = checks.label_keys(rows["label"])

    stripped = _check_text(rows, rules, runner, ledger)
    allowed = _check_labels(rows, keys, rules, runner, ledger)
    _check_conflicts(rows, keys, checks.normalise_text(stripped), runner, ledger)

    valid_mask = ledger.survivors()
    counts = keys[valid_mask].value_counts()
    class_counts = {label: int(counts.get(label, 0)) for label in allowed}
    minimum = checks.class_minimum_stage(class_counts, rules)
    [result] = runner.validate(minimum.frame, minimum.expectations)
    below = {allowed[i]: class_counts[allowed[i]] for i in result.unexpected_index}
    shown = tuple(f"{label!r}: {count}" for label, count in below.items())[:MAX_SAMPLES]
    ledger.summaries.append(_summary(result, shown))

    return ValidationOutcome(
        valid=rows[valid_mask].reset_index(drop=True),
        quarantined=_quarantined(rows, ledger.rejected),
        allowed_labels=allowed,
        expectations=ledger.summaries,
        class_counts=class_counts,
        classes_below_minimum=below,
    )


def _check_text(rows: pd.DataFrame, rules: ValidationRules, runner: GxRunner, ledger: _Ledger) -> pd.Series:
    """Run the text rules (and ingest_ok); return the stripped text, null where missing or blank."""
    stage = checks.text_stage(rows, rules)
    stripped = stage.frame[checks.TEXT]
    explain: Explainer = {
        TEXT_NOT_BLANK: (lambda p: reasons.blank_text_reasons(rows["text"], p), rows["text"]),
        TEXT_LENGTH: (lambda p: reasons.length_reasons(stripped, p, rules), rows["text"]),
    }
    if checks.INGEST_ERROR in rows.columns:
        errors = rows[checks.INGEST_ERROR]
        explain[INGEST_OK] = (lambda p: reasons.ingest_reasons(errors, p), errors)
    ledger.record(runner.validate(stage.frame, stage.expectations), explain)
    return stripped


def _check_labels(
    rows: pd.DataFrame, keys: pd.Series, rules: ValidationRules, runner: GxRunner, ledger: _Ledger
) -> tuple[str, ...]:
    """Run label_allowed on rows with usable text; return the allowed set (given or inferred)."""
    usable = ledger.survivors()
    if rules.allowed_labels is None:
        allowed = checks.infer_allowed_labels(keys[usable], rules)
        support: pd.Series | None = keys[usable].value_counts()
    else:
        allowed, support = rules.allowed_labels, None
    stage = checks.label_stage(keys, usable, allowed, inferred=support is not None)
    explain_label = (lambda p: reasons.label_reasons(keys, p, allowed, rules, support), rows["label"])
    ledger.record(runner.validate(stage.frame, stage.expectations), {LABEL_ALLOWED: explain_label})
    return allowed


def _check_conflicts(
    rows: pd.DataFrame, keys: pd.Series, normalised: pd.Series, runner: GxRunner, ledger: _Ledger
) -> None:
    stage = checks.conflict_stage(keys, normalised, ledger.survivors())
    explain = (lambda p: reasons.conflict_reasons(rows, keys, normalised, p), rows["text"])
    ledger.record(runner.validate(stage.frame, stage.expectations), {LABEL_CONFLICT: explain})


def _quarantined(rows: pd.DataFrame, rejected: dict[int, tuple[str, str]]) -> pd.DataFrame:
    positions = sorted(rejected)
    out = rows.iloc[positions].reset_index(drop=True)
    out["reason"] = pd.Series([rejected[p][1] for p in positions], dtype="str")
    out["rule"] = pd.Series([rejected[p][0] for p in positions], dtype="str")
    return out
