"""A small hand-checked evaluation case shared by the metrics, plots and markdown tests."""

from __future__ import annotations

import numpy as np

LABELS = ["a", "b", "c"]
# Confusion (rows true, columns predicted): a -> [2, 1, 1], b -> [1, 2, 0], c -> [0, 0, 3].
Y_TRUE = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
Y_PRED = [0, 0, 1, 2, 1, 1, 0, 2, 2, 2]


def peaked_probabilities(y_pred: list[int], n_labels: int, confidences: list[float]) -> np.ndarray:
    """Rows that put `confidence` on the predicted label and spread the rest evenly."""
    rows = np.empty((len(y_pred), n_labels))
    for i, (label, confidence) in enumerate(zip(y_pred, confidences, strict=True)):
        rows[i] = (1.0 - confidence) / (n_labels - 1)
        rows[i, label] = confidence
    return rows
