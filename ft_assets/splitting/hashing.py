"""Split assignment by a hash of the normalised text.

A row's split depends only on its own text (and the salt), so adding data never moves an existing
example, and identical texts always land together, which rules out train/test leakage by duplicates.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from ft_assets.validation.normalise import text_key

SPLITS = ("train", "validation", "test")


def unit_interval(text: str, salt: str = "") -> float:
    """Where a text falls in [0, 1): from its key, the same one that finds duplicates and conflicts."""
    digest = hashlib.blake2b(f"{salt}\x00{text_key(text)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def assign_splits(
    texts: pd.Series, train_fraction: float, validation_fraction: float, salt: str = ""
) -> pd.Series:
    if not 0 < train_fraction < 1 or not 0 <= validation_fraction < 1:
        raise ValueError("train_fraction must be in (0, 1) and validation_fraction in [0, 1)")
    if train_fraction + validation_fraction >= 1:
        raise ValueError("train_fraction + validation_fraction must leave room for a test split")
    position = np.fromiter((unit_interval(t, salt) for t in texts), dtype=np.float64, count=len(texts))
    labels = np.where(
        position < train_fraction,
        "train",
        np.where(position < train_fraction + validation_fraction, "validation", "test"),
    )
    return pd.Series(labels, index=texts.index, name="split")


def missing_classes(frame: pd.DataFrame) -> dict[str, list[str]]:
    """For each split, the classes that have no example in it."""
    classes = set(frame["label"].unique())
    return {
        split: sorted(classes - set(frame.loc[frame["split"] == split, "label"].unique()))
        for split in SPLITS
        if classes - set(frame.loc[frame["split"] == split, "label"].unique())
    }
