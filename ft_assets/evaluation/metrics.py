"""Test-split metrics for a fitted classifier, computed with scikit-learn into a JSON-ready report."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_fscore_support,
)

from ft_assets.evaluation.report import EvaluationReport, LexicalBaseline, MajorityBaseline, TopError

__all__ = ["EvaluationReport", "LexicalBaseline", "MajorityBaseline", "TopError", "compute_report"]

TOP_ERRORS_LIMIT = 20


def compute_report(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    probabilities: np.ndarray,
    label_names: list[str],
    texts: Sequence[str],
) -> EvaluationReport:
    """Metrics over label ids 0..len(label_names)-1; `probabilities` is (n_test, n_labels).

    Macro averages cover the classes seen in y_true or y_pred: a class absent from both has no
    evidence either way, and scoring it 0 would punish a model for the test split's sampling.
    """
    truth, pred, proba = _validate(y_true, y_pred, probabilities, label_names, texts)
    all_ids = list(range(len(label_names)))
    seen_ids = sorted(set(truth.tolist()) | set(pred.tolist()))

    precision, recall, f1, support = precision_recall_fscore_support(
        truth, pred, labels=all_ids, zero_division=0
    )
    macro_p, macro_r, macro_f, _ = precision_recall_fscore_support(
        truth, pred, labels=seen_ids, average="macro", zero_division=0
    )
    per_class = {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(label_names)
    }
    # argmax picks the lowest id on ties, so the baseline is deterministic.
    majority_id = int(np.bincount(truth, minlength=len(label_names)).argmax())
    majority_pred = np.full_like(truth, majority_id)
    majority_seen = sorted(set(truth.tolist()) | {majority_id})
    return EvaluationReport(
        accuracy=float(accuracy_score(truth, pred)),
        macro_f1=float(macro_f),
        macro_precision=float(macro_p),
        macro_recall=float(macro_r),
        weighted_f1=float(f1_score(truth, pred, labels=seen_ids, average="weighted", zero_division=0)),
        per_class=per_class,
        confusion_matrix=confusion_matrix(truth, pred, labels=all_ids).tolist(),
        n_test=len(truth),
        majority_baseline=MajorityBaseline(
            label=label_names[majority_id],
            accuracy=float(np.mean(truth == majority_id)),
            macro_f1=float(
                f1_score(truth, majority_pred, labels=majority_seen, average="macro", zero_division=0)
            ),
        ),
        log_loss=_log_loss_or_none(truth, proba, all_ids),
        top_errors=_top_errors(truth, pred, proba, label_names, texts),
    )


def _validate(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    probabilities: np.ndarray,
    label_names: list[str],
    texts: Sequence[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    truth = np.asarray(y_true, dtype=np.int64)
    pred = np.asarray(y_pred, dtype=np.int64)
    proba = np.asarray(probabilities, dtype=np.float64)
    n, k = len(truth), len(label_names)
    if n == 0:
        raise ValueError("cannot evaluate an empty test split")
    if len(set(label_names)) != k:
        raise ValueError(f"label names must be unique: {label_names}")
    if len(pred) != n or len(texts) != n or proba.shape != (n, k):
        raise ValueError(
            f"inconsistent sizes: y_true {n}, y_pred {len(pred)}, texts {len(texts)}, "
            f"probabilities {proba.shape}, labels {k}"
        )
    ids = np.concatenate([truth, pred])
    if ids.min() < 0 or ids.max() >= k:
        raise ValueError(f"label ids must lie in [0, {k})")
    return truth, pred, proba


def _log_loss_or_none(truth: np.ndarray, proba: np.ndarray, all_ids: list[int]) -> float | None:
    # Rows that are not distributions (logits, NaNs) would be silently renormalised by sklearn.
    if not np.all(np.isfinite(proba)) or not np.allclose(proba.sum(axis=1), 1.0, atol=1e-3):
        return None
    return float(log_loss(truth, proba, labels=all_ids))


def _top_errors(
    truth: np.ndarray, pred: np.ndarray, proba: np.ndarray, label_names: list[str], texts: Sequence[str]
) -> tuple[TopError, ...]:
    wrong = np.flatnonzero(truth != pred)
    confidence = proba[wrong, pred[wrong]]
    # Stable sort keeps test-set order among equal confidences, so the list is reproducible.
    order = wrong[np.argsort(-confidence, kind="stable")][:TOP_ERRORS_LIMIT]
    return tuple(
        TopError(
            text=str(texts[i]),
            true_label=label_names[truth[i]],
            predicted_label=label_names[pred[i]],
            confidence=float(proba[i, pred[i]]),
        )
        for i in order
    )
