"""SST-2 as the pipeline sees it: hash-split, tokenized DatasetDicts built with the project's own code."""

from __future__ import annotations

import pandas as pd
from datasets import DatasetDict

from benchmarks.common import minilm_path, sst2
from ft_assets.splitting.hashing import assign_splits
from ft_assets.tokenizing.dataset import build_dataset_dict
from ft_resources.base_model import BaseModelSource

LABELS = ["0", "1"]


def sst2_dataset(n_train: int | None, max_length: int = 128, seed: int = 0) -> DatasetDict:
    """train: `n_train` SST-2 train rows (all when None) minus a 5 % hash-chosen validation slice;
    test: the whole SST-2 dev set, which no train row repeats."""
    train = sst2("train")
    if n_train is not None:
        train = train.sample(n=n_train, random_state=seed)
    train = train.copy()
    # Two-way split: what assign_splits calls "test" joins validation; SST-2 dev is the real test.
    train["split"] = assign_splits(train["text"], 0.95, 0.025).replace("test", "validation")
    dev = sst2("dev").assign(split="test")
    frame = pd.concat([train, dev], ignore_index=True)
    tokenizer = BaseModelSource(name_or_path=minilm_path()).load_tokenizer()
    dataset, _ = build_dataset_dict(frame, tokenizer, LABELS, max_length)
    return dataset
