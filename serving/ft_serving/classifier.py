"""Torch-free text classification from a production bundle: onnxruntime, tokenizers and numpy only."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Encoding

from ft_serving.bundle import BundleError, LoadedBundle, load_bundle

__all__ = ["BundleError", "OnnxClassifier", "Prediction", "softmax"]

# Python strings can hold lone surrogates (from surrogateescape); the tokenizer rejects them.
_SURROGATES = re.compile("[\ud800-\udfff]")
# Characters kept per token of max_length before tokenizing: English averages ~5 per token, so
# this never cuts text the model would have seen, and it bounds the cost of megabyte inputs.
_CHARS_PER_TOKEN_CAP = 128


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
    than ``max_length`` tokens is cut and flagged ``truncated=True``. Lone surrogates become U+FFFD.
    """

    def __init__(
        self, bundle_dir: Path | str, *, int8: bool = False, threads: int | None = None, max_length: int = 256
    ) -> None:
        self._bundle: LoadedBundle = load_bundle(
            bundle_dir, int8=int8, threads=threads, max_length=max_length
        )

    @property
    def labels(self) -> tuple[str, ...]:
        return self._bundle.labels

    @property
    def model_version(self) -> str | None:
        return self._bundle.model_version

    @property
    def max_length(self) -> int:
        """Tokens per text actually used: the request, capped by what the model supports."""
        return self._bundle.max_length

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        """One prediction per text, in input order."""
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of texts; wrap a single text in a list")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {index} is {type(text).__name__}, not str")
        predictions: list[Prediction] = []
        for start in range(0, len(texts), batch_size):
            predictions.extend(self._predict_batch(texts[start : start + batch_size]))
        return predictions

    def _predict_batch(self, texts: Sequence[str]) -> list[Prediction]:
        max_chars = self._bundle.max_length * _CHARS_PER_TOKEN_CAP
        prepared = [_SURROGATES.sub("\ufffd", text[:max_chars]) for text in texts]
        encodings = self._bundle.tokenizer.encode_batch(prepared)
        probabilities = softmax(self._logits(encodings))
        labels = self._bundle.labels
        predictions = []
        for text, encoding, row in zip(texts, encodings, probabilities, strict=True):
            best = int(row.argmax())
            predictions.append(
                Prediction(
                    text=text,
                    label=labels[best],
                    score=float(row[best]),
                    probabilities={label: float(p) for label, p in zip(labels, row, strict=True)},
                    # Cutting characters drops input too, even where the tokenizer would not have.
                    truncated=len(text) > max_chars or bool(encoding.overflowing),
                )
            )
        return predictions

    def _logits(self, encodings: list[Encoding]) -> np.ndarray:
        columns = {
            "input_ids": [encoding.ids for encoding in encodings],
            "attention_mask": [encoding.attention_mask for encoding in encodings],
            "token_type_ids": [encoding.type_ids for encoding in encodings],
        }
        feeds = {name: np.asarray(columns[name], dtype=np.int64) for name in self._bundle.input_names}
        return np.asarray(self._bundle.session.run(["logits"], feeds)[0])
