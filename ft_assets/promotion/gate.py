"""The promotion rule: a challenger replaces the champion only if it is at least as good."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ft_serving.classifier import OnnxClassifier
from ft_serving.spec import read_spec
from sklearn.metrics import accuracy_score, f1_score

from ft_assets.tokenizing.encode import label_difference


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


def bundle_labels(bundle_dir: Path) -> tuple[str, ...]:
    """The labels a bundle predicts, from its bundle.json (no graph is loaded)."""
    return read_spec(bundle_dir).labels


def label_set_change(champion: Sequence[str], challenger: Sequence[str]) -> str | None:
    """None when both bundles predict the same classes (in any order: scores compare label strings);
    else a description of the change. A champion with other classes cannot be scored on the
    challenger's test labels: a renamed class counts as every one of its texts wrong."""
    if set(champion) == set(challenger):
        return None
    difference = label_difference("champion", champion, "challenger", challenger)
    return f"champion labels {list(champion)}, challenger labels {list(challenger)} ({difference})"


def decide_label_change(
    challenger: float,
    metric: str,
    tolerance: float,
    change: str,
    *,
    allow: bool,
    beats_baseline: tuple[float, float] | None = None,
) -> Decision:
    """The champion predicts other classes than the challenger (`change`, from label_set_change), so no
    score of it says whether the challenger is better. Without `allow` the champion stays and a person
    decides; with it the challenger is promoted as a first model would be (the baseline check, if set)."""
    prefix = f"label set changed ({change}): champion not comparable"
    if not allow:
        why = (
            f"{prefix}; kept champion. Promoting a model that predicts other labels changes what "
            "production answers: re-run production_model with config allow_label_change: true to promote it"
        )
        return Decision(False, metric, challenger, None, tolerance, why)
    first = decide(challenger, None, metric, tolerance, beats_baseline=beats_baseline)
    if not first.promote:
        return Decision(False, metric, challenger, None, tolerance, f"{prefix}; {first.reason}")
    why = f"{prefix}; promoted because allow_label_change is set ({metric} {challenger:.4f})"
    return Decision(True, metric, challenger, None, tolerance, why)


def decide_rolled_back(
    challenger: float, champion: float | None, metric: str, tolerance: float, rollback: dict[str, Any]
) -> Decision:
    """The challenger is a version an operator rolled production back from (``rollback``, its log entry):
    the gate does not bring it back, whatever it scores (a retrain of unchanged data rebuilds the same
    bytes, so the same version); config allow_rolled_back promotes it once."""
    why = (
        f"rolled back from by an operator at {rollback['time']} (to {rollback['model_version']}); "
        "not promoted again automatically: set config allow_rolled_back: true for one run to promote it; "
        "kept champion"
    )
    return Decision(False, metric, challenger, champion, tolerance, why)


def decide(
    challenger: float,
    champion: float | None,
    metric: str,
    tolerance: float,
    *,
    beats_baseline: tuple[float, float] | None = None,
    same_data: bool = False,
) -> Decision:
    """`beats_baseline`, when given, is (model, TF-IDF baseline) on `metric` from the same evaluation:
    a model that does not exceed the baseline is never promoted, whatever the champion scores.

    `same_data`: both were trained on the same data. Then only a strictly better challenger wins, and the
    tolerance (there to let a model of newer data in) does not apply: a retrain of unchanged data whose
    weights come out different (GPU kernels, a time budget) would otherwise switch production on every
    tie, or walk it down by a tolerance at a time."""
    if beats_baseline is not None and not beats_baseline[0] > beats_baseline[1]:
        model, baseline = beats_baseline
        why = (
            f"challenger {metric} {model:.4f} does not beat the TF-IDF baseline {baseline:.4f}; not promoted"
        )
        return Decision(False, metric, challenger, champion, tolerance, why)
    if champion is None:
        return Decision(True, metric, challenger, None, tolerance, "no production model yet")
    if same_data:
        if challenger > champion:
            why = f"challenger {metric} {challenger:.4f} > champion {champion:.4f} (same training data)"
            return Decision(True, metric, challenger, champion, tolerance, why)
        why = (
            f"challenger {metric} {challenger:.4f} <= champion {champion:.4f} (same training data): "
            "a retrain of unchanged data replaces the champion only when strictly better (no tolerance); "
            "kept champion"
        )
        return Decision(False, metric, challenger, champion, tolerance, why)
    if challenger >= champion - tolerance:
        why = f"challenger {metric} {challenger:.4f} >= champion {champion:.4f} - tolerance {tolerance:g}"
        return Decision(True, metric, challenger, champion, tolerance, why)
    why = f"challenger {metric} {challenger:.4f} < champion {champion:.4f} - tolerance {tolerance:g}"
    why += "; kept champion"
    return Decision(False, metric, challenger, champion, tolerance, why)
