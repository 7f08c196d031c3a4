from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from ft_assets.evaluation import EvaluationReport, compute_report
from tests.evaluation.cases import LABELS, peaked_probabilities

REQUIRED_KEYS = {
    "accuracy",
    "macro_f1",
    "macro_precision",
    "macro_recall",
    "per_class",
    "confusion_matrix",
    "n_test",
    "model_version",
    "data_version",
    "base_model",
}


def test_hand_computed_metrics(hand_report: EvaluationReport) -> None:
    r = hand_report
    assert r.confusion_matrix == [[2, 1, 1], [1, 2, 0], [0, 0, 3]]
    assert r.n_test == 10
    assert r.accuracy == pytest.approx(0.7)
    assert r.per_class["a"] == pytest.approx({"precision": 2 / 3, "recall": 0.5, "f1": 4 / 7, "support": 4})
    assert r.per_class["b"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert r.per_class["c"] == pytest.approx({"precision": 0.75, "recall": 1.0, "f1": 6 / 7, "support": 3})
    assert r.macro_precision == pytest.approx(25 / 36)
    assert r.macro_recall == pytest.approx(13 / 18)
    assert r.macro_f1 == pytest.approx(44 / 63)
    assert r.weighted_f1 == pytest.approx(24 / 35)
    assert list(r.per_class) == LABELS


def test_class_absent_from_predictions_scores_zero_without_warning() -> None:
    y_true, y_pred = [0, 1, 2, 2], [0, 1, 1, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = compute_report(y_true, y_pred, peaked_probabilities(y_pred, 3, [0.9] * 4), LABELS, ["t"] * 4)
    assert r.per_class["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert r.confusion_matrix[2] == [0, 2, 0]
    assert r.macro_recall == pytest.approx(2 / 3)


def test_class_absent_everywhere_keeps_a_row_but_not_a_say_in_macro() -> None:
    labels = ["a", "b", "c", "d"]
    y_true, y_pred = [0, 0, 1, 1], [0, 0, 1, 1]
    r = compute_report(y_true, y_pred, peaked_probabilities(y_pred, 4, [0.7] * 4), labels, ["t"] * 4)
    assert r.confusion_matrix == [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert r.per_class["d"]["support"] == 0
    assert r.macro_f1 == pytest.approx(1.0)


def test_majority_baseline(hand_report: EvaluationReport) -> None:
    assert hand_report.majority_baseline.label == "a"
    assert hand_report.majority_baseline.accuracy == pytest.approx(0.4)


def test_majority_baseline_breaks_ties_towards_lowest_id() -> None:
    y_true, y_pred = [2, 2, 1, 1], [2, 2, 1, 1]
    r = compute_report(y_true, y_pred, peaked_probabilities(y_pred, 3, [0.8] * 4), LABELS, ["t"] * 4)
    assert (r.majority_baseline.label, r.majority_baseline.accuracy) == ("b", 0.5)


def test_top_errors_are_wrong_predictions_by_confidence(hand_report: EvaluationReport) -> None:
    # Wrong rows: 2 (a->b, 0.7), 3 (a->c, 0.95), 6 (b->a, 0.85); row 9 is right at 0.99 and excluded.
    got = [(e.text, e.true_label, e.predicted_label, e.confidence) for e in hand_report.top_errors]
    assert got == [("text 3", "a", "c", 0.95), ("text 6", "b", "a", 0.85), ("text 2", "a", "b", 0.7)]


def test_top_errors_are_capped_at_twenty() -> None:
    rng = np.random.default_rng(0)
    n = 30
    confidences = rng.permutation(np.linspace(0.4, 0.99, n)).tolist()
    y_true, y_pred = [0] * n, [1] * n
    texts = [f"t{i}" for i in range(n)]
    r = compute_report(y_true, y_pred, peaked_probabilities(y_pred, 2, confidences), ["x", "y"], texts)
    got = [e.confidence for e in r.top_errors]
    assert len(got) == 20
    assert got == sorted(confidences, reverse=True)[:20]


def test_log_loss_for_distributions_and_none_for_logits() -> None:
    y = [0, 1, 2]
    uniform = np.full((3, 3), 1 / 3)
    assert compute_report(y, y, uniform, LABELS, ["t"] * 3).log_loss == pytest.approx(math.log(3))
    logits = np.array([[2.0, -1.0, 0.5]] * 3)
    assert compute_report(y, y, logits, LABELS, ["t"] * 3).log_loss is None


@pytest.mark.parametrize(
    ("y_pred", "probabilities", "texts"),
    [
        ([0, 1], np.full((3, 3), 1 / 3), ["t"] * 3),
        ([0, 1, 2], np.full((3, 2), 0.5), ["t"] * 3),
        ([0, 1, 3], np.full((3, 3), 1 / 3), ["t"] * 3),
        ([0, 1, 2], np.full((3, 3), 1 / 3), ["t"] * 2),
    ],
)
def test_inconsistent_inputs_are_rejected(
    y_pred: list[int], probabilities: np.ndarray, texts: list[str]
) -> None:
    with pytest.raises(ValueError):
        compute_report([0, 1, 2], y_pred, probabilities, LABELS, texts)


def test_json_dict_has_contract_keys_and_plain_types(hand_report: EvaluationReport) -> None:
    extra = {
        "model_version": "m1",
        "data_version": "d1",
        "base_model": "minilm",
        "labels": {"0": "a", "1": "b", "2": "c"},
        "best_epoch": np.int64(3),
    }
    body = hand_report.to_json_dict(extra)
    assert body.keys() >= REQUIRED_KEYS
    assert json.loads(json.dumps(body)) == body
    assert all(type(leaf) in (int, float, str, type(None)) for leaf in _leaves(body))
    assert type(body["best_epoch"]) is int
    assert body["per_class"]["a"]["support"] == 4
    assert body["confusion_matrix"] == [[2, 1, 1], [1, 2, 0], [0, 0, 3]]
    # Always "a": F1 2*0.4*1/1.4 for a, 0 for b and c, averaged over the three classes seen.
    assert body["majority_baseline"] == {
        "label": "a",
        "accuracy": pytest.approx(0.4),
        "macro_f1": pytest.approx((2 * 0.4 / 1.4) / 3),
    }
    assert body["lexical_baseline"] is None and body["margin_over_lexical_baseline"] is None
    assert body["top_errors"][0]["text"] == "text 3"


def test_json_dict_refuses_extra_that_overwrites_a_metric(hand_report: EvaluationReport) -> None:
    with pytest.raises(ValueError, match="accuracy"):
        hand_report.to_json_dict({"accuracy": 1.0})


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]
