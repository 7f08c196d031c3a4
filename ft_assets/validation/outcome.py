"""What a validation run hands back: the rows split into valid and quarantined, and a report per rule."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ft_assets.validation.rules import Severity

MAX_DETAILS = 10


@dataclass(frozen=True)
class RuleReport:
    """One rule of the table as GX judged it: what an asset check or the metadata shows."""

    name: str
    severity: Severity
    description: str
    expectations: tuple[str, ...]  # the GX expectation types that ran
    success: bool
    checked: int  # rows (or classes, groups) GX looked at
    unexpected: int  # rows GX found breaking the rule
    quarantined: int = 0  # rows quarantined under this rule (each row under its first failing rule)
    blocking: bool = False  # failed in a way that must stop training
    details: tuple[str, ...] = ()  # the first MAX_DETAILS findings, e.g. "a.csv:4: text is blank"
    figures: dict[str, float | int | str] = field(default_factory=dict)


# eq=False: DataFrames have no truth value, so a generated __eq__/__hash__ would only raise.
@dataclass(frozen=True, eq=False)
class ValidationOutcome:
    """Every input row is in exactly one of `valid` and `quarantined`, both indexed 0..n-1 in input order.

    `valid` carries text, label (normalised), source_file and source_line; `quarantined` the row as read
    (label unnormalised) with `reason` and `rule`.
    """

    valid: pd.DataFrame
    quarantined: pd.DataFrame
    allowed_labels: tuple[str, ...]
    reports: list[RuleReport]
    class_counts: dict[str, int]
    classes_below_minimum: dict[str, int]

    @property
    def success(self) -> bool:
        return all(report.success for report in self.reports)

    def report(self, name: str) -> RuleReport:
        for report in self.reports:
            if report.name == name:
                return report
        raise KeyError(f"no rule named {name!r}; have {[r.name for r in self.reports]}")
