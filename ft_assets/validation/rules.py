"""The validation rules: their settings, and the one table that Great Expectations runs.

Each rule is a name, a predicate (GX expectations on a column that `suite` prepares), a reason for every
row it rejects, and a severity: `quarantine` rules remove the rows they reject, `warn` rules only report
them, `block` rules judge the whole batch and stop training when they fail. The asset checks of
`validated_examples` are one per rule, made from this table. Rules run in table order, each stage on the
rows that survived the stages before it; a row is quarantined under the first rule that rejects it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import great_expectations as gx
import pandas as pd
import pydantic
from great_expectations.expectations import Expectation
from pydantic import Field

from ft_assets.validation.gx_runner import RULE_KEY
from ft_assets.validation.normalise import INVISIBLE, label_renames, normalise_labels

Severity = Literal["quarantine", "warn", "block"]
# Row stages see one row per record; `class`, `variants` and `batch` see one row per class, per group
# of look-alike labels and per record of the batch.
Stage = Literal["row", "label", "set", "class", "variants", "batch"]

# Columns that `suite` prepares for the expectations.
INGEST_ERROR = "ingest_error"
TEXT = "text_stripped"  # text stripped of whitespace, never of control characters; missing when blank
LABEL = "label_normalised"  # the label after `normalise.normalise_labels`; missing when absent
CANDIDATE = "label_candidate"  # LABEL of the rows that passed the row stage
LABELS_PER_TEXT = "labels_per_text"  # distinct labels of the same text key, among label-stage survivors
TEXT_AND_LABEL = "text_and_label"
VALID_ROWS = "valid_rows"
CLASSES = "classes_in_group"
SPELLINGS = "spellings_in_group"
QUARANTINED = "quarantined"

CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
# A spreadsheet formula call or DDE payload (`=SUM(`, `=cmd|' /C calc'!A0`, `@SUM(`, `-2+3+cmd|...`),
# a cell reference formula (`=A1+B2`) or an error value (`#REF!`); never a customer's message. After `@`
# only a call written tight (`@SUM(`) counts: a tweet opens with `@united | ...` or `@delta (again) ...`.
FORMULA = (
    r"^(?:\s*=\s*[A-Za-z_][\w.]*\s*[(|]|\s*@[A-Za-z_][\w.]*\(|\s*=\s*\$?[A-Za-z]{1,3}\$?\d+\b"
    r"|\s*[=+\-@].*\|\s*'.*'!|#(?:REF!|NAME\?|VALUE!|DIV/0!|N/A|NULL!|NUM!)$)"
)


class ValidationRules(pydantic.BaseModel):
    """The settings of the rules; the `validate_raw_examples` config is exactly this."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    min_text_chars: int = Field(
        default=1, ge=0, description="Shortest accepted text (stripped), in characters."
    )
    max_text_chars: int = Field(
        default=5000, ge=1, description="Longest accepted text (stripped), in characters."
    )
    allowed_labels: list[str] | None = Field(
        default=None,
        description="Accepted labels (normalised like the data). Unset or empty: every label seen at least "
        "min_examples_per_class times.",
    )
    min_examples_per_class: int = Field(
        default=10, ge=1, description="Fewer valid examples than this for a class stops training."
    )
    max_quarantine_fraction: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="A batch with more of its rows quarantined than this stops training.",
    )
    fold_label_case: bool = Field(
        default=False, description="Casefold labels, so `Positive` and `POSITIVE` are one class."
    )
    label_map: dict[str, str] = Field(
        default_factory=dict, description='Rename labels after normalising them, e.g. {"pos": "positive"}.'
    )

    @pydantic.field_validator("allowed_labels", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return value or None  # the Launchpad writes an emptied list as []

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> ValidationRules:
        if self.max_text_chars < self.min_text_chars:
            raise ValueError(
                f"max_text_chars ({self.max_text_chars}) must be >= min_text_chars ({self.min_text_chars})"
            )
        if self.allowed_labels and len(set(self.allowed_labels)) != len(self.allowed_labels):
            raise ValueError(f"allowed_labels has duplicates: {self.allowed_labels}")
        # The same check the run applies, here too so that the Launchpad refuses such a map up front.
        label_renames(self.label_map, self.fold_label_case)
        if self.allowed_labels:
            normalised = self.normalised_allowed_labels()
            if missing := [
                given for given, label in zip(self.allowed_labels, normalised, strict=True) if label is None
            ]:
                raise ValueError(
                    f"allowed_labels {missing} are missing-label tokens (empty, None, null, N/A, NaN and the "
                    "like): rows with such a label are quarantined as missing, never a class; name the class "
                    "otherwise (e.g. 'no_intent') and map it with label_map"
                )
        return self

    def normalised_allowed_labels(self) -> list[str | None]:
        """allowed_labels normalised like the data's labels (None for a missing-label token); [] unset."""
        if not self.allowed_labels:
            return []
        given = pd.Series(self.allowed_labels, dtype=object)
        return normalise_labels(given, self.fold_label_case, self.label_map).tolist()


@dataclass(frozen=True)
class Evidence:
    """What the reasons of the row rules read, position by position (0..n-1 over the input rows)."""

    rows: pd.DataFrame
    stripped: pd.Series
    labels: pd.Series
    rules: ValidationRules
    allowed: tuple[str, ...] = ()
    support: pd.Series | None = None  # label -> rows, when the allowed set was inferred
    variants: dict[str, str] | None = None  # label -> the allowed label it looks like
    related: dict[str, dict[int, str]] | None = None  # rule -> position -> the other rows of its text

    def where(self, position: int) -> str:
        row = self.rows.iloc[position]
        return f"{row['source_file']}:{row['source_line']}"


@dataclass(frozen=True)
class Rule:
    name: str
    stage: Stage
    severity: Severity
    description: str
    predicate: Callable[[ValidationRules, Sequence[str]], list[Expectation]]
    reason: Callable[[Evidence, int], str] | None = None  # row rules only

    def expectations(self, rules: ValidationRules, allowed: Sequence[str] = ()) -> list[Expectation]:
        """The predicate as GX expectations, tagged with this rule (results come back keyed by it)."""
        out = self.predicate(rules, allowed)
        for expectation in out:
            expectation.meta = {RULE_KEY: self.name}
            expectation.description = self.description
            expectation.severity = "warning" if self.severity == "warn" else "critical"
        return out


def _length_reason(ev: Evidence, p: int) -> str:
    n = len(ev.stripped.iloc[p])
    limit = ev.rules.max_text_chars if n > ev.rules.max_text_chars else ev.rules.min_text_chars
    return f"text length {n:,} {'exceeds max' if n > limit else 'is below min'}_text_chars={limit}"


def _blank_reason(ev: Evidence, p: int) -> str:
    text = ev.rows["text"].iloc[p]
    if pd.isna(text):
        return "text is missing"
    codes = list(dict.fromkeys(f"U+{ord(c):04X}" for c in "".join(INVISIBLE.findall(str(text)))))
    return f"text is blank: only invisible characters ({', '.join(codes)})" if codes else "text is blank"


def _control_reason(ev: Evidence, p: int) -> str:
    text = ev.stripped.iloc[p]
    column = next(i for i, c in enumerate(text) if re.match(CONTROL, c))
    return f"text contains control character U+{ord(text[column]):04X} at column {column + 1}"


def _label_reason(ev: Evidence, p: int) -> str:
    label = ev.labels.iloc[p]
    shown = ", ".join(repr(a) for a in ev.allowed[:20]) + (", ..." if len(ev.allowed) > 20 else "")
    reason = f"label {label!r} is not in the allowed set [{shown}]"
    if ev.support is not None:
        seen = int(ev.support.get(label, 0))
        reason += f" (inferred: seen {seen} time{'' if seen == 1 else 's'}, below min_examples_per_class="
        reason += f"{ev.rules.min_examples_per_class})"
    if ev.variants and label in ev.variants:
        reason += f"; it looks like a variant of {ev.variants[label]!r} (set fold_label_case or label_map)"
    return reason


E = gx.expectations
# fmt: off
RULES: tuple[Rule, ...] = (
    Rule("record_parsed", "row", "quarantine", "the record could be read",
         lambda r, a: [E.ExpectColumnValuesToBeNull(column=INGEST_ERROR)],
         lambda ev, p: f"unreadable record: {ev.rows[INGEST_ERROR].iloc[p]}"),
    Rule("text_not_blank", "row", "quarantine", "text is present and not blank",
         lambda r, a: [E.ExpectColumnValuesToNotBeNull(column=TEXT)],
         _blank_reason),
    Rule("text_length", "row", "quarantine", "stripped text has min_text_chars..max_text_chars characters",
         lambda r, a: [E.ExpectColumnValueLengthsToBeBetween(
             column=TEXT, min_value=r.min_text_chars, max_value=r.max_text_chars)],
         _length_reason),
    Rule("text_printable", "row", "quarantine", "text has no control characters (NUL, escape, ...)",
         lambda r, a: [E.ExpectColumnValuesToNotMatchRegex(column=TEXT, regex=CONTROL)],
         _control_reason),
    Rule("text_not_formula", "row", "quarantine", "text is not a spreadsheet formula or error value",
         lambda r, a: [E.ExpectColumnValuesToNotMatchRegex(column=TEXT, regex=FORMULA)],
         lambda ev, p: f"text looks like a spreadsheet formula or error value: {ev.stripped.iloc[p][:60]!r}"),
    Rule("label_present", "row", "quarantine", "label is present (NaN, None, null, N/A... are missing)",
         lambda r, a: [E.ExpectColumnValuesToNotBeNull(column=LABEL)],
         lambda ev, p: "label is missing" + ("" if pd.isna(raw := ev.rows["label"].iloc[p])
                                             else f" ({raw!r} is a null token)")),
    Rule("label_allowed", "label", "quarantine", "label is in the allowed set (given, or inferred)",
         lambda r, a: [E.ExpectColumnValuesToBeInSet(column=CANDIDATE, value_set=list(a))],
         _label_reason),
    Rule("label_conflict", "set", "quarantine", "each normalised text carries a single label",
         lambda r, a: [E.ExpectColumnValuesToBeBetween(column=LABELS_PER_TEXT, min_value=1, max_value=1)],
         lambda ev, p: f"text also labelled {(ev.related or {})['label_conflict'][p]}"),
    Rule("text_unique", "set", "warn", "no text repeats with the same label (repeats are kept and reported)",
         lambda r, a: [E.ExpectColumnValuesToBeUnique(column=TEXT_AND_LABEL)],
         lambda ev, p: f"same text and label as {(ev.related or {})['text_unique'][p]}"),
    Rule("min_examples_per_class", "class", "block", "2+ classes, each with min_examples_per_class rows",
         lambda r, a: [E.ExpectColumnValuesToBeBetween(column=VALID_ROWS, min_value=r.min_examples_per_class),
                       E.ExpectTableRowCountToBeBetween(min_value=2)]),
    Rule("label_variants", "variants", "block", "no look-alike labels; blocking when two of them are classes",
         lambda r, a: [E.ExpectColumnValuesToBeBetween(column=CLASSES, max_value=1),
                       E.ExpectColumnValuesToBeBetween(column=SPELLINGS, max_value=1)]),
    Rule("quarantine_rate", "batch", "block", "at most max_quarantine_fraction of the records quarantined",
         lambda r, a: [E.ExpectColumnMeanToBeBetween(column=QUARANTINED,
                                                      max_value=r.max_quarantine_fraction)]),
)
# fmt: on

RULE_ORDER = {rule.name: i for i, rule in enumerate(RULES)}
