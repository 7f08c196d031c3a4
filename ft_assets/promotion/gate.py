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


def score_bundle(
    bundle_dir: Path, texts: list[str], labels: list[str], metric: str, max_length: int
) -> float:
    """Score any bundle-shaped folder (fp32 ONNX) on the given labelled texts."""
    predicted = [
        p.label for p in OnnxClassifier(bundle_dir, max_length=max_length).predict(texts, batch_size=64)
    ]
    if metric == "accuracy":
        return float(accuracy_score(labels, predicted))
    return float(f1_score(labels, predicted, average="macro", zero_division=0))


def decide(challenger: float, champion: float | None, metric: str, tolerance: float) -> Decision:
    if champion is None:
        return Decision(True, metric, challenger, None, tolerance, "no production model yet")
    if challenger >= champion - tolerance:
        why = f"challenger {metric} {challenger:.4f} >= champion {champion:.4f} - tolerance {tolerance:g}"
        return Decision(True, metric, challenger, champion, tolerance, why)
    why = f"challenger {metric} {challenger:.4f} < champion {champion:.4f} - tolerance {tolerance:g}"
    why += "; kept champion"
    return Decision(False, metric, challenger, champion, tolerance, why)
