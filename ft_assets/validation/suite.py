"""Validate labeled examples with a Great Expectations 1.x suite and split them into valid and quarantined.

A row failing several rules is quarantined once, under the first rule it fails, in the order
ingest_ok (only when the frame has `ingest_error`), text_not_blank, text_length, label_allowed,
label_conflict. Later rules only see rows that passed the earlier ones (see `checks`), so e.g. a
blank text never counts towards a label conflict, and each summary's unexpected_count is the number
of rows that rule quarantined.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from ft_assets.validation import checks, reasons
from ft_assets.validation.gx_runner import GxRunner, RuleResult
from ft_assets.validation.outcome import ExpectationSummary, ValidationOutcome, sample_values
from ft_assets.validation.rules import ROW_RULES, ValidationRules

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
    rules = rules or ValidationRules()
    missing = [column for column in REQUIRED_COLUMNS if column not in df.columns]
    if missing:
        raise ValueError(f"cannot validate: missing column(s) {missing}; have {list(df.columns)}")
    rows = df.reset_index(drop=True)
    runner = GxRunner()
    ledger = _Ledger(len(rows))
    keys = checks.label_keys(rows["label"])

    text = checks.text_stage(rows, rules)
    stripped = text.frame[checks.TEXT]
    ledger.record(
        runner.validate(text.frame, text.expectations),
        {
            "ingest_ok": (lambda p: reasons.ingest_reasons(rows[checks.INGEST_ERROR], p),
                          rows.get(checks.INGEST_ERROR, rows["text"])),
            "text_not_blank": (lambda p: reasons.blank_text_reasons(rows["text"], p), rows["text"]),
            "text_length": (lambda p: reasons.length_reasons(stripped, p, rules), rows["text"]),
        },
    )

    usable = ledger.survivors()
    support = keys[usable].value_counts()
    inferred = rules.allowed_labels is None
    allowed = checks.infer_allowed_labels(keys[usable], rules) if inferred else rules.allowed_labels
    assert allowed is not None
    label = checks.label_stage(keys, usable, allowed, inferred)
    ledger.record(
        runner.validate(label.frame, label.expectations),
        {
            "label_allowed": (
                lambda p: reasons.label_reasons(keys, p, allowed, rules, support if inferred else None),
                rows["label"],
            )
        },
    )

    normalised = checks.normalise_text(stripped)
    conflict = checks.conflict_stage(keys, normalised, ledger.survivors())
    ledger.record(
        runner.validate(conflict.frame, conflict.expectations),
        {"label_conflict": (lambda p: reasons.conflict_reasons(rows, keys, normalised, p), rows["text"])},
    )

    valid_mask = ledger.survivors()
    counts = keys[valid_mask].value_counts()
    class_counts = {label: int(counts.get(label, 0)) for label in allowed}
    minimum = checks.class_minimum_stage(class_counts, rules)
    [result] = runner.validate(minimum.frame, minimum.expectations)
    below = {allowed[i]: class_counts[allowed[i]] for i in result.unexpected_index}
    ledger.summaries.append(_summary(result, sample_values(pd.Series([f"{k!r}: {v}" for k, v in below.items()]))))

    return ValidationOutcome(
        valid=rows[valid_mask].reset_index(drop=True),
        quarantined=_quarantined(rows, ledger.rejected),
        allowed_labels=tuple(allowed),
        expectations=ledger.summaries,
        class_counts=class_counts,
        classes_below_minimum=below,
    )


def _quarantined(rows: pd.DataFrame, rejected: dict[int, tuple[str, str]]) -> pd.DataFrame:
    positions = sorted(rejected)
    out = rows.iloc[positions].reset_index(drop=True)
    out["reason"] = pd.Series([rejected[p][1] for p in positions], dtype="str")
    out["rule"] = pd.Series([rejected[p][0] for p in positions], dtype="str")
    return out
