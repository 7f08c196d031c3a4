"""Validation metrics computed by the Trainer at the end of every epoch."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from transformers import EvalPrediction


def compute_classification_metrics(prediction: EvalPrediction) -> dict[str, float]:
    """Accuracy and macro-F1 from logits; the Trainer prefixes the keys with ``eval_``."""
    logits = prediction.predictions
    # Some models return (logits, hidden_states, ...); the logits always come first.
    if isinstance(logits, tuple):
        logits = logits[0]
    labels = np.asarray(prediction.label_ids)
    predicted = np.asarray(logits).argmax(axis=-1)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        # Over the classes seen in labels or predictions: a class absent from a small validation
        # split would otherwise score 0 and drag the average down for no reason.
        "macro_f1": float(f1_score(labels, predicted, average="macro", zero_division=0)),
    }


def inverse_frequency_weights(labels: list[int] | np.ndarray, num_labels: int) -> np.ndarray:
    """Per-class weights n / (k · count_c), so a balanced split gets all ones.

    A class missing from the train split gets weight 0: it contributes no loss terms anyway,
    and an infinite weight would poison the average.
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_labels).astype(np.float64)
    if counts.shape[0] != num_labels:
        raise ValueError(f"label ids go up to {counts.shape[0] - 1} but only {num_labels} labels are named")
    present = counts > 0
    weights = np.zeros(num_labels, dtype=np.float64)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights
