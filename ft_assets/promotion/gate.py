"""The promotion rule: a challenger replaces the champion only if it is at least as good."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ft_serving.classifier import OnnxClassifier
from sklearn.metrics import accuracy_score, f1_score


@dataclass(frozen=True)
class Decision:
    promote: bool
    metric: str
    challenger_score: float
    champion_score: float | None
    tolerance: float
    reason: str


def score_bundle(bundle_dir: Path, texts: list[str], labels: list[str], metric: str) -> float:
    """Score a bundle (fp32 ONNX) on labelled texts exactly as ft-predict serves it: its own bundle.json
    decides how texts are cut, so champion and challenger are each scored the way they serve."""
    predicted = [p.label for p in OnnxClassifier(bundle_dir).predict(texts, batch_size=64)]
    if metric == "accuracy":
        return float(accuracy_score(labels, predicted))
    return float(f1_score(labels, predicted, average="macro", zero_division=0))


def decide(
    challenger: float,
    champion: float | None,
    metric: str,
    tolerance: float,
    *,
    beats_baseline: tuple[float, float] | None = None,
) -> Decision:
    """`beats_baseline`, when given, is (model, TF-IDF baseline) on `metric` from the same evaluation:
    a model that does not exceed the baseline is never promoted, whatever the champion scores."""
    if beats_baseline is not None and not beats_baseline[0] > beats_baseline[1]:
        model, baseline = beats_baseline
        why = (
            f"challenger {metric} {model:.4f} does not beat the TF-IDF baseline {baseline:.4f}; not promoted"
        )
        return Decision(False, metric, challenger, champion, tolerance, why)
    if champion is None:
        return Decision(True, metric, challenger, None, tolerance, "no production model yet")
    if challenger >= champion - tolerance:
        why = f"challenger {metric} {challenger:.4f} >= champion {champion:.4f} - tolerance {tolerance:g}"
        return Decision(True, metric, challenger, champion, tolerance, why)
    why = f"challenger {metric} {challenger:.4f} < champion {champion:.4f} - tolerance {tolerance:g}"
    why += "; kept champion"
    return Decision(False, metric, challenger, champion, tolerance, why)
