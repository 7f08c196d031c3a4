"""Torch-free text classification from a production bundle: onnxruntime, tokenizers and numpy only."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ft_serving.bundle import BundleError, LoadedBundle, load_bundle
from ft_serving.spec import MODEL_OUTPUT, BundleSpec

__all__ = ["BundleError", "OnnxClassifier", "Prediction", "softmax"]

# Python strings can hold lone surrogates (from surrogateescape); the tokenizer rejects them.
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Prediction:
    text: str
    label: str
    score: float
    probabilities: dict[str, float]
    truncated: bool


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax; subtracting the row maximum keeps exp() from overflowing."""
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=-1, keepdims=True)


class OnnxClassifier:
    """Predicts labels for texts with the bundle's ONNX graph (fp32, or INT8 with ``int8=True``).

    Every string gets a prediction. Empty or whitespace-only text is classified from the special
    tokens alone (the model's prior), not rejected, so output stays aligned with input. Text longer
    than the bundle's ``max_length`` tokens is cut as in training and evaluation and flagged
    ``truncated=True``. Lone surrogates become U+FFFD.
    """

    def __init__(self, bundle_dir: Path | str, *, int8: bool = False, threads: int | None = None) -> None:
        self._bundle: LoadedBundle = load_bundle(bundle_dir, int8=int8, threads=threads)
        # The INT8 graph quantizes its activations on the fly with one scale per tensor, taken over the
        # whole batch (padding and the other texts included): batched, a text's scores, and at times its
        # label, would depend on what shares its call. Each text therefore runs alone, as in evaluation.
        self._texts_per_run = 1 if int8 else None

    @property
    def labels(self) -> tuple[str, ...]:
        return self._bundle.labels

    @property
    def model_version(self) -> str:
        return self._bundle.model_version

    @property
    def max_length(self) -> int:
        """Tokens per text, special tokens included: the length the model was trained and evaluated with."""
        return self._bundle.max_length

    @property
    def spec(self) -> BundleSpec:
        return self._bundle.spec

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        """One prediction per text, in input order; ``batch_size`` texts per fp32 call (INT8: one)."""
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of texts; wrap a single text in a list")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {index} is {type(text).__name__}, not str")
        predictions: list[Prediction] = []
        step = self._texts_per_run or batch_size
        for start in range(0, len(texts), step):
            predictions.extend(self._predict_batch(texts[start : start + step]))
        return predictions

    def _predict_batch(self, texts: Sequence[str]) -> list[Prediction]:
        encoder = self._bundle.encoder
        encodings = encoder.encode([_SURROGATES.sub("\ufffd", text) for text in texts])
        logits = self._bundle.session.run([MODEL_OUTPUT], encoder.feeds(encodings))[0]
        probabilities = softmax(np.asarray(logits))
        labels = self._bundle.labels
        return [
            Prediction(
                text=text,
                label=labels[int(row.argmax())],
                score=float(row.max()),
                probabilities={label: float(p) for label, p in zip(labels, row, strict=True)},
                truncated=bool(encoding.overflowing),
            )
            for text, encoding, row in zip(texts, encodings, probabilities, strict=True)
        ]
