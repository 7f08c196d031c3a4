"""What a validation run hands back: the split of the rows and a summary of each expectation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

MAX_SAMPLES = 10


@dataclass(frozen=True)
class ExpectationSummary:
    """One GX expectation's result, reduced to what a report or an asset check shows."""

    name: str  # the rule id, e.g. "text_length"
    expectation_type: str  # the GX expectation, e.g. "expect_column_value_lengths_to_be_between"
    description: str
    success: bool
    unexpected_count: int
    element_count: int
    sample_unexpected: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["sample_unexpected"] = list(self.sample_unexpected)
        return out


# eq=False: DataFrames have no truth value, so a generated __eq__/__hash__ would only raise.
@dataclass(frozen=True, eq=False)
class ValidationOutcome:
    """The input rows split into valid and quarantined, with what the suite found.

    `valid` has the input columns; `quarantined` adds `reason` and `rule`. Every input row is in
    exactly one of them, both with a fresh 0..n-1 index, in input order.
    """

    valid: pd.DataFrame
    quarantined: pd.DataFrame
    allowed_labels: tuple[str, ...]
    expectations: list[ExpectationSummary]
    class_counts: dict[str, int]
    classes_below_minimum: dict[str, int]

    @property
    def success(self) -> bool:
        """True when no row was quarantined and every class reached its minimum."""
        return all(summary.success for summary in self.expectations)

    def expectation(self, name: str) -> ExpectationSummary:
        for summary in self.expectations:
            if summary.name == name:
                return summary
        raise KeyError(f"no expectation named {name!r}; have {[s.name for s in self.expectations]}")


def sample_values(values: pd.Series) -> tuple[str, ...]:
    """Up to MAX_SAMPLES offending values as short reprs (repr keeps blanks and None visible)."""
    out: list[str] = []
    for value in values.head(MAX_SAMPLES).tolist():
        text = repr(value)
        out.append(text if len(text) <= 80 else text[:77] + "...")
    return tuple(out)
