"""The evaluation report's data model and its report.json serialisation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class MajorityBaseline:
    label: str
    accuracy: float
    macro_f1: float


@dataclass(frozen=True)
class LexicalBaseline:
    """TF-IDF + logistic regression fitted on the model's own train split, scored on the same test split."""

    name: str
    accuracy: float
    macro_f1: float
    c: float
    n_train: int
    n_features: int
    fit_seconds: float


@dataclass(frozen=True)
class TopError:
    text: str
    true_label: str
    predicted_label: str
    confidence: float


@dataclass(frozen=True)
class EvaluationReport:
    """Test-split metrics; `per_class` and `confusion_matrix` follow the labels.json order."""

    accuracy: float
    macro_f1: float
    macro_precision: float
    macro_recall: float
    weighted_f1: float
    per_class: dict[str, dict[str, float | int]]
    confusion_matrix: list[list[int]]
    n_test: int
    majority_baseline: MajorityBaseline
    log_loss: float | None
    top_errors: tuple[TopError, ...]
    lexical_baseline: LexicalBaseline | None = None

    def margin_over_lexical(self) -> dict[str, float] | None:
        """Model minus lexical baseline, per headline metric; positive means the model is better."""
        if self.lexical_baseline is None:
            return None
        return {
            "accuracy": self.accuracy - self.lexical_baseline.accuracy,
            "macro_f1": self.macro_f1 - self.lexical_baseline.macro_f1,
        }

    def to_json_dict(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The report.json body (the fields the README's bundle section lists) plus `extra`, as plain JSON."""
        body: dict[str, Any] = {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "macro_precision": self.macro_precision,
            "macro_recall": self.macro_recall,
            "weighted_f1": self.weighted_f1,
            "per_class": self.per_class,
            "confusion_matrix": self.confusion_matrix,
            "n_test": self.n_test,
            "majority_baseline": vars(self.majority_baseline),
            "lexical_baseline": None if self.lexical_baseline is None else vars(self.lexical_baseline),
            "margin_over_lexical_baseline": self.margin_over_lexical(),
            "log_loss": self.log_loss,
            "top_errors": [vars(error) for error in self.top_errors],
        }
        extra = extra or {}
        # A caller key silently replacing a metric would ship a report that lies about the model.
        clashes = sorted(body.keys() & extra.keys())
        if clashes:
            raise ValueError(f"extra keys would overwrite metrics: {clashes}")
        return _plain({**body, **extra})


def _plain(value: Any) -> Any:
    """Recursively turn numpy scalars/arrays and tuples into JSON-native types."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
