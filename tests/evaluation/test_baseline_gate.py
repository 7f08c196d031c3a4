"""The warn-level check and the promotion gate's optional rule: a model must beat the TF-IDF baseline."""

from __future__ import annotations

import dagster as dg
import pytest

from ft_assets.assets.evaluation_checks import beats_lexical_baseline
from ft_assets.assets.production import PromotionConfig, _baseline_pair
from ft_assets.promotion.gate import decide


def _evaluation(model_f1: float, baseline_f1: float | None) -> dict:
    lexical = None if baseline_f1 is None else {"macro_f1": baseline_f1, "accuracy": 0.5}
    return {
        "report": {"macro_f1": model_f1, "accuracy": 0.9, "model_version": "m1", "lexical_baseline": lexical}
    }


@pytest.mark.parametrize(
    ("model", "baseline", "passed"), [(0.91, 0.85, True), (0.85, 0.85, False), (0.8, 0.85, False)]
)
def test_check_passes_only_when_the_model_exceeds_the_baseline(model, baseline, passed) -> None:
    result = beats_lexical_baseline(evaluation_report=_evaluation(model, baseline))
    assert result.passed is passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["margin"].value == pytest.approx(round(model - baseline, 4))


def test_check_warns_on_a_report_without_baseline() -> None:
    result = beats_lexical_baseline(evaluation_report=_evaluation(0.9, None))
    assert not result.passed
    assert "no lexical baseline" in result.metadata["problem"].value


def test_check_targets_evaluation_report() -> None:
    key = dg.AssetCheckKey(dg.AssetKey("evaluation_report"), "beats_lexical_baseline")
    assert set(beats_lexical_baseline.check_keys) == {key}


def test_gate_refuses_a_model_that_does_not_beat_the_baseline_even_without_champion() -> None:
    decision = decide(0.9, None, "macro_f1", 0.0, beats_baseline=(0.84, 0.85))
    assert not decision.promote
    assert "does not beat the TF-IDF baseline 0.8500" in decision.reason


def test_gate_rule_is_off_by_default_and_passes_a_better_model_through() -> None:
    report = _evaluation(0.8, 0.85)["report"]
    assert _baseline_pair(PromotionConfig(), report) is None
    assert decide(0.8, None, "macro_f1", 0.0, beats_baseline=None).promote
    pair = _baseline_pair(PromotionConfig(require_beats_baseline=True), report)
    assert pair == (0.8, 0.85)
    better = decide(0.92, 0.95, "macro_f1", 0.0, beats_baseline=(0.92, 0.85))
    assert not better.promote and "champion" in better.reason


def test_gate_rule_fails_clearly_on_a_report_without_baseline() -> None:
    with pytest.raises(dg.Failure, match="no lexical_baseline"):
        _baseline_pair(PromotionConfig(require_beats_baseline=True), _evaluation(0.9, None)["report"])


def test_model_card_shows_the_baseline_and_the_margin() -> None:
    from ft_serving.spec import BundleSpec

    from ft_assets.promotion.card import render_model_card

    report = {
        "model_version": "m1",
        "data_version": "d1",
        "base_model": "minilm",
        "labels": {"0": "a", "1": "b"},
        "n_test": 10,
        "accuracy": 0.9,
        "macro_f1": 0.88,
        "macro_precision": 0.87,
        "macro_recall": 0.86,
        "per_class": {"a": {"precision": 1.0, "recall": 0.8, "f1": 0.89, "support": 5}},
        "majority_baseline": {"label": "a", "accuracy": 0.5, "macro_f1": 0.33},
        "lexical_baseline": {"accuracy": 0.8, "macro_f1": 0.78},
        "margin_over_lexical_baseline": {"accuracy": 0.1, "macro_f1": 0.1},
    }
    spec = BundleSpec("m1", "d1", "minilm", ("a", "b"), 64, ("input_ids", "attention_mask"))
    onnx = {
        "latency": [],
        "fp32_test_accuracy": 0.9,
        "int8_test_accuracy": 0.9,
        "bundle_spec": spec.to_json(),
    }
    card = render_model_card(report, onnx, "no production model yet")
    assert "| TF-IDF + logistic regression baseline, accuracy / macro F1 | 0.8000 / 0.7800 |" in card
    assert "| margin over the TF-IDF baseline, accuracy / macro F1 | +0.1000 / +0.1000 |" in card
