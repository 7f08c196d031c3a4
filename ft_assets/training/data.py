"""Shapes the tokenized DatasetDict into what the Trainer consumes."""

from __future__ import annotations

from dataclasses import dataclass

import datasets
import numpy as np
import pyarrow.compute as pc
from ft_serving.spec import MODEL_INPUTS, REQUIRED_INPUTS

# Columns BERT-like classifiers accept; anything else (text, source_file, ...) stays out of batches.
MODEL_COLUMNS = (*MODEL_INPUTS, "labels")
REQUIRED_COLUMNS = (*REQUIRED_INPUTS, "labels")


@dataclass(frozen=True)
class PreparedSplit:
    """A split restricted to model inputs, with per-row token counts for length grouping."""

    dataset: datasets.Dataset
    lengths: list[int]
    labels: np.ndarray


def prepare_split(dataset: datasets.DatasetDict, split: str, num_labels: int) -> PreparedSplit:
    """Select the model columns of ``split`` and precompute lengths.

    Lengths come from Arrow list sizes in one vectorised call, so length grouping does not
    decode every row in Python the way the Trainer's fallback does.
    """
    if split not in dataset:
        raise ValueError(f"dataset has no {split!r} split (has: {sorted(dataset)})")
    part = dataset[split]
    missing = [c for c in REQUIRED_COLUMNS if c not in part.column_names]
    if missing:
        raise ValueError(f"{split} split lacks columns {missing}; it has {part.column_names}")
    if len(part) == 0:
        raise ValueError(f"{split} split is empty")
    part = part.select_columns([c for c in MODEL_COLUMNS if c in part.column_names])
    lengths = _lengths(part)
    labels = part.with_format("arrow")["labels"].to_numpy()
    if labels.min() < 0 or labels.max() >= num_labels:
        raise ValueError(
            f"{split} labels must lie in [0, {num_labels}); found {labels.min()}..{labels.max()}"
        )
    return PreparedSplit(dataset=part, lengths=lengths, labels=labels)


def _lengths(part: datasets.Dataset) -> list[int]:
    # The arrow format honours any indices mapping (select/shuffle), unlike reading part.data directly.
    column = part.with_format("arrow")["input_ids"]
    return pc.list_value_length(column).to_pylist()
