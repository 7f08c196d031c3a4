"""Parity gate: the ONNX graph must reproduce the torch model's logits on real texts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ft_assets.export.loading import encode, load_finetuned, ort_logits, ort_session, torch_logits

# Small batches keep memory flat for large validation sets and exercise the dynamic batch axis.
PARITY_BATCH_SIZE = 16


@dataclass(frozen=True)
class ParityReport:
    max_abs_diff: float
    n_texts: int
    predictions_match: bool
    passed: bool


def check_parity(
    model_dir: Path, onnx_path: Path, texts: list[str], max_length: int, tolerance: float = 1e-4
) -> ParityReport:
    """Compare torch and onnxruntime logits on the same tokenized batches.

    Passing needs both a small worst-case logit difference and identical argmax on every text,
    so a graph that drifts just enough to flip a decision is caught even under the tolerance.
    """
    if not texts:
        raise ValueError("check_parity needs at least one text")
    model, tokenizer = load_finetuned(Path(model_dir))
    session = ort_session(Path(onnx_path))
    max_diff = 0.0
    predictions_match = True
    for start in range(0, len(texts), PARITY_BATCH_SIZE):
        encoded = encode(tokenizer, texts[start : start + PARITY_BATCH_SIZE], max_length)
        expected = torch_logits(model, encoded)
        actual = ort_logits(session, encoded)
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
