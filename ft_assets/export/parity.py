"""Parity gate: the bundle, as served, must reproduce the torch model's logits on real texts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ft_serving.bundle import load_bundle

from ft_assets.export.loading import ort_logits, torch_logits
from ft_assets.training.model import load_finetuned

# Largest |logit difference| between torch and the exported graph that still counts as the same model.
PARITY_TOLERANCE = 1e-4
# Small batches keep memory flat for large validation sets and exercise the dynamic batch axis.
PARITY_BATCH_SIZE = 16


@dataclass(frozen=True)
class ParityReport:
    max_abs_diff: float
    n_texts: int
    predictions_match: bool
    passed: bool


def check_parity(
    model_dir: Path,
    bundle_dir: Path,
    texts: list[str],
    tolerance: float = PARITY_TOLERANCE,
    *,
    int8: bool = False,
) -> ParityReport:
    """Compare torch and onnxruntime logits on the same batches, encoded as the bundle serves them.

    The bundle is opened the way ft-predict opens it (bundle.json, its tokenizer and max_length),
    so the gate covers the served encoding as well as the graph.

    Passing needs both a small worst-case logit difference and identical argmax on every text,
    so a graph that drifts just enough to flip a decision is caught even under the tolerance.
    """
    if not texts:
        raise ValueError("check_parity needs at least one text")
    model, _ = load_finetuned(Path(model_dir))
    bundle = load_bundle(bundle_dir, int8=int8)
    max_diff = 0.0
    predictions_match = True
    for start in range(0, len(texts), PARITY_BATCH_SIZE):
        feeds = bundle.encoder.feeds(bundle.encoder.encode(texts[start : start + PARITY_BATCH_SIZE]))
        expected = torch_logits(model, feeds)
        actual = ort_logits(bundle.session, feeds)
        if expected.shape != actual.shape:
            # A graph from a model with another label count: not comparable, so it cannot pass.
            max_diff, predictions_match = math.inf, False
            break
        batch_diff = float(np.max(np.abs(expected - actual)))
        # Python's max() drops NaN depending on argument order; keep it so the gate sees it.
        if math.isnan(batch_diff) or batch_diff > max_diff:
            max_diff = batch_diff
        predictions_match &= bool(np.array_equal(expected.argmax(axis=-1), actual.argmax(axis=-1)))
    passed = predictions_match and math.isfinite(max_diff) and max_diff <= tolerance
    return ParityReport(
        max_abs_diff=max_diff, n_texts=len(texts), predictions_match=predictions_match, passed=passed
    )
