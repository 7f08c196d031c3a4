"""Run the rule table (`rules.RULES`) with Great Expectations and split rows into valid and quarantined.

Each stage prepares the columns its rules' expectations read, over every input row, with the rows that
an earlier stage quarantined left missing (which GX leaves out of those expectations). A row that breaks
several rules of one stage counts in each rule's GX figures, and is quarantined under the first.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ft_assets.validation.gx_runner import RuleResult, shared_runner
from ft_assets.validation.normalise import INVISIBLE, label_skeleton, normalise_labels, text_keys
from ft_assets.validation.outcome import MAX_DETAILS, RuleReport, ValidationOutcome
from ft_assets.validation.rules import (
    CANDIDATE,
    CLASSES,
    CONTROL,
    INGEST_ERROR,
    LABEL,
    LABELS_PER_TEXT,
    QUARANTINED,
    RULE_ORDER,
    RULES,
    SPELLINGS,
    TEXT,
    TEXT_AND_LABEL,
    VALID_ROWS,
    Evidence,
    Rule,
    Stage,
    ValidationRules,
)

REQUIRED_COLUMNS = ("text", "label", "source_file", "source_line")


@functools.cache
def stripped_chars() -> str:
    """What the text rules strip from both ends: whitespace, but never a control character (\x0b \x0c
    \x1c-\x1f are whitespace to str.strip), so every control character of the text as emitted is in the text
    checked; and invisible characters (`INVISIBLE`), so a text of them is blank and a formula behind them
    is seen. Built on first use: it scans every code point (about 50 ms), which no import should pay."""
    return "".join(
        c
        for c in map(chr, range(sys.maxunicode + 1))
        if (c.isspace() and not re.fullmatch(CONTROL, c)) or INVISIBLE.fullmatch(c)
    )


class _Ledger:
    """Which rows each stage rejected, and the report of every rule, in table order."""

    def __init__(self, n_rows: int) -> None:
        self.rejected: dict[int, tuple[str, str]] = {}  # position -> (rule, reason)
        self.reports: dict[str, RuleReport] = {}
        self.n_rows = n_rows

    def survivors(self) -> pd.Series:
        mask = np.ones(self.n_rows, dtype=bool)
        mask[list(self.rejected)] = False
        return pd.Series(mask)

    def run(
        self, stage: Stage, frame: pd.DataFrame, rules: ValidationRules, allowed: Sequence[str] = ()
    ) -> dict[str, list[RuleResult]]:
        staged = [rule for rule in RULES if rule.stage == stage]
        results = shared_runner().validate(frame, [e for r in staged for e in r.expectations(rules, allowed)])
        by_rule: dict[str, list[RuleResult]] = {}
        for result in results:
            by_rule.setdefault(result.rule, []).append(result)
        return by_rule

    def run_one(
        self, stage: Stage, frame: pd.DataFrame, rules: ValidationRules
    ) -> tuple[Rule, list[RuleResult]]:
        """Run the one dataset-level rule of `stage`."""
        [rule] = [r for r in RULES if r.stage == stage]
        return rule, self.run(stage, frame, rules)[rule.name]

    def judge_rows(self, by_rule: dict[str, list[RuleResult]], evidence: Evidence) -> None:
        for rule in (r for r in RULES if r.name in by_rule):
            assert rule.reason is not None
            [result] = by_rule[rule.name]
            details, quarantined = [], 0
            for position in result.unexpected_index:
                reason = rule.reason(evidence, position)
                if rule.severity == "quarantine" and position not in self.rejected:
                    self.rejected[position] = (rule.name, reason)
                    quarantined += 1
                if len(details) < MAX_DETAILS:
                    details.append(f"{evidence.where(position)}: {reason}")
            self.add(rule, [result], quarantined=quarantined, details=tuple(details))

    def add(self, rule: Rule, results: list[RuleResult], **fields: object) -> None:
        self.reports[rule.name] = RuleReport(
            name=rule.name,
            severity=rule.severity,
            description=rule.description,
            expectations=tuple(r.expectation_type for r in results),
            success=all(r.success for r in results),
            checked=max((r.element_count for r in results), default=0),
            unexpected=sum(r.unexpected_count for r in results),
            **fields,  # type: ignore[arg-type]
        )


def validate_examples(df: pd.DataFrame, rules: ValidationRules | None = None) -> ValidationOutcome:
    """Validate `df` (text, label, source_file, source_line; optional ingest_error) against `RULES`."""
    rules = ValidationRules() if rules is None else rules
    missing = [column for column in REQUIRED_COLUMNS if column not in df.columns]
    if missing:
        raise ValueError(f"cannot validate: missing column(s) {missing}; have {list(df.columns)}")
    rows = df.reset_index(drop=True)
    if INGEST_ERROR not in rows.columns:
        rows = rows.assign(**{INGEST_ERROR: None})
    text = rows["text"].astype("string").str.strip(stripped_chars())
    stripped = text.astype(object).where(text.fillna("").ne(""), None)
    labels = normalise_labels(rows["label"], rules.fold_label_case, rules.label_map)
    ledger = _Ledger(len(rows))
    evidence = Evidence(rows=rows, stripped=stripped, labels=labels, rules=rules)

    row_frame = pd.DataFrame({INGEST_ERROR: rows[INGEST_ERROR], TEXT: stripped, LABEL: labels})
    ledger.judge_rows(ledger.run("row", row_frame, rules), evidence)

    usable = ledger.survivors()
    allowed, support = _allowed(labels[usable], rules)
    variants = _look_alikes(labels[usable].unique(), allowed)
    evidence = Evidence(rows, stripped, labels, rules, allowed, support, variants)
    label_frame = pd.DataFrame({CANDIDATE: labels.where(usable, None)})
    ledger.judge_rows(ledger.run("label", label_frame, rules, allowed), evidence)

    labelled = ledger.survivors()
    keys = text_keys(stripped.where(labelled, None))
    set_frame = pd.DataFrame(
        {LABELS_PER_TEXT: _labels_per_text(keys, labels, labelled), TEXT_AND_LABEL: keys + "\x1f" + labels}
    )
    by_rule = ledger.run("set", set_frame, rules)
    related = _related(rows, keys, labels, by_rule)
    ledger.judge_rows(by_rule, Evidence(rows, stripped, labels, rules, allowed, support, variants, related))

    valid = ledger.survivors()
    counts = labels[valid].value_counts()
    class_counts = {label: int(counts.get(label, 0)) for label in allowed}
    below = _judge_classes(ledger, rules, class_counts)
    _judge_variants(ledger, rules, rows["label"][usable], labels[usable], allowed)
    _judge_batch(ledger, rules)

    out = rows.drop(columns=[INGEST_ERROR]).assign(label=labels)
    return ValidationOutcome(
        valid=out[valid.to_numpy()].reset_index(drop=True),
        quarantined=_quarantined(rows.drop(columns=[INGEST_ERROR]), ledger.rejected),
        allowed_labels=allowed,
        reports=sorted(ledger.reports.values(), key=lambda r: RULE_ORDER[r.name]),
        class_counts=class_counts,
        classes_below_minimum=below,
    )


def _allowed(labels: pd.Series, rules: ValidationRules) -> tuple[tuple[str, ...], pd.Series | None]:
    """The allowed set, normalised like the data: given, or every label seen min_examples_per_class times."""
    if rules.allowed_labels is not None:
        given = rules.normalised_allowed_labels()
        return tuple(dict.fromkeys(label for label in given if label is not None)), None
    support = labels.value_counts()
    return tuple(sorted(str(k) for k in support[support >= rules.min_examples_per_class].index)), support


def _look_alikes(labels: Sequence[str], allowed: Sequence[str]) -> dict[str, str]:
    """label -> the allowed label it is a variant of (the same `label_skeleton`)."""
    by_skeleton = {label_skeleton(a): a for a in allowed}
    found = {label: by_skeleton.get(label_skeleton(label)) for label in labels if label not in allowed}
    return {label: target for label, target in found.items() if target is not None}


def _labels_per_text(keys: pd.Series, labels: pd.Series, present: pd.Series) -> pd.Series:
    # Integer codes instead of a string groupby: several times faster on tens of thousands of rows.
    text_codes, _ = pd.factorize(keys[present])
    label_codes, _ = pd.factorize(labels[present])
    pairs = pd.DataFrame({"text": text_codes, "label": label_codes}).drop_duplicates()
    per_text = np.bincount(pairs["text"].to_numpy(), minlength=len(text_codes))
    distinct = pd.Series(per_text[text_codes], index=keys.index[present.to_numpy()], dtype="float64")
    return distinct.reindex(keys.index)


def _related(
    rows: pd.DataFrame, keys: pd.Series, labels: pd.Series, by_rule: dict[str, list[RuleResult]]
) -> dict[str, dict[int, str]]:
    """Per rule, per flagged row: the first row of each other label of its text (label_conflict), or
    the first other row with its text and label (text_unique)."""
    where = rows["source_file"].astype(str) + ":" + rows["source_line"].astype(str)
    out: dict[str, dict[int, str]] = {"label_conflict": {}, "text_unique": {}}
    for name, found in out.items():
        positions = [p for result in by_rule.get(name, []) for p in result.unexpected_index]
        group = pd.DataFrame({"key": keys, "label": labels, "where": where}).iloc[positions]
        firsts = group.drop_duplicates(["key", "label"])
        if name == "label_conflict":
            per_text = firsts.groupby("key")[["label", "where"]].agg(list)
            for position, key, label in zip(positions, group["key"], group["label"], strict=True):
                pairs = zip(*per_text.loc[key], strict=True)
                found[position] = ", ".join(f"{other!r} at {w}" for other, w in pairs if other != label)
        else:
            seconds = group[~group.index.isin(firsts.index)].drop_duplicates(["key", "label"])
            first_at = firsts.set_index(["key", "label"])["where"].to_dict()
            second_at = seconds.set_index(["key", "label"])["where"].to_dict()
            for position, key, label in zip(positions, group["key"], group["label"], strict=True):
                found[position] = second_at[key, label] if position in firsts.index else first_at[key, label]
    return out


def _judge_classes(ledger: _Ledger, rules: ValidationRules, class_counts: dict[str, int]) -> dict[str, int]:
    frame = pd.DataFrame({VALID_ROWS: pd.Series(list(class_counts.values()), dtype="int64")})
    rule, results = ledger.run_one("class", frame, rules)
    names = list(class_counts)
    below = {names[i]: class_counts[names[i]] for r in results for i in r.unexpected_index}
    problems = [f"{label!r}: {n} < {rules.min_examples_per_class}" for label, n in below.items()]
    if len(class_counts) < 2:
        problems.insert(0, f"{len(class_counts)} class(es); training needs two or more")
    ledger.add(
        rule,
        results,
        blocking=bool(problems),
        details=tuple(problems[:MAX_DETAILS]),
        figures={"problem": "; ".join(problems) or "none", "classes": len(class_counts)},
    )
    return below


def _judge_variants(
    ledger: _Ledger, rules: ValidationRules, raw: pd.Series, labels: pd.Series, allowed: Sequence[str]
) -> None:
    """Groups of labels with one skeleton: several spellings were merged, or are separate classes."""
    seen = pd.DataFrame({"raw": raw.astype(str), "label": labels})
    seen["skeleton"] = seen["label"].map(label_skeleton)
    groups = seen.groupby("skeleton", sort=True)
    frame = pd.DataFrame(
        {
            CLASSES: groups["label"].agg(lambda s: len(set(s) & set(allowed))),
            SPELLINGS: groups["raw"].nunique(),
        }
    ).reset_index(drop=True)
    rule, results = ledger.run_one("variants", frame, rules)
    details = []
    for _, group in groups:
        if group["raw"].nunique() > 1:
            spelled = group.groupby(["raw", "label"]).size()
            parts = [f"{raw!r} -> {label!r} ({n} rows)" for (raw, label), n in spelled.items()]
            classes = sorted(set(group["label"]) & set(allowed))
            verdict = f"separate classes {classes}" if len(classes) > 1 else "one class"
            details.append(f"{', '.join(parts)}: {verdict}")
    ledger.add(rule, results, blocking=not results[0].success, details=tuple(details[:MAX_DETAILS]))


def _judge_batch(ledger: _Ledger, rules: ValidationRules) -> None:
    flags = np.zeros(ledger.n_rows)
    flags[list(ledger.rejected)] = 1.0
    rule, results = ledger.run_one("batch", pd.DataFrame({QUARANTINED: flags}), rules)
    fraction = float(flags.mean()) if len(flags) else 0.0
    figures = {"quarantined_fraction": round(fraction, 4), "limit": rules.max_quarantine_fraction}
    ledger.add(rule, results, blocking=not results[0].success, figures=figures)


def _quarantined(rows: pd.DataFrame, rejected: dict[int, tuple[str, str]]) -> pd.DataFrame:
    positions = sorted(rejected)
    out = rows.iloc[positions].reset_index(drop=True)
    out["reason"] = pd.Series([rejected[p][1] for p in positions], dtype=object)
    out["rule"] = pd.Series([rejected[p][0] for p in positions], dtype=object)
    return out
