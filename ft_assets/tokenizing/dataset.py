"""Split examples to an unpadded, tokenized DatasetDict: the asset's core, free of Dagster and validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from datasets import Dataset, DatasetDict

from ft_assets.splitting.hashing import SPLITS
from ft_assets.tokenizing.encode import encode_texts


def build_dataset_dict(
    frame: pd.DataFrame, tokenizer: Any, label_names: list[str], max_length: int
) -> tuple[DatasetDict, np.ndarray]:
    label_ids = {label: i for i, label in enumerate(label_names)}
    texts = frame["text"].tolist()
    encoded = encode_texts(tokenizer, texts, max_length)
    columns: dict[str, list[Any]] = {
        **encoded.columns,
        "labels": [label_ids[label] for label in frame["label"]],
        "length": [len(ids) for ids in encoded.columns["input_ids"]],
        "text": texts,
    }
    full = Dataset.from_dict(columns)
    splits = frame["split"].to_numpy()
    parts = {split: full.select(np.flatnonzero(splits == split)) for split in SPLITS}
    return DatasetDict(parts), encoded.full_lengths
