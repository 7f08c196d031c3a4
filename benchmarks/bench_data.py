"""Data-half throughput on the real SST-2 train file: tokenizing (>20,000 rows/s) and validating (<15 s)."""

from __future__ import annotations

import pandas as pd

from benchmarks.common import Timer, minilm_path, sst2, write_result
from ft_assets.assets.tokenized import build_dataset_dict
from ft_assets.splitting.hashing import assign_splits
from ft_assets.tokenizing.encode import label_order
from ft_assets.validation.rules import ValidationRules
from ft_assets.validation.suite import validate_examples
from ft_resources.base_model import BaseModelSource


def main() -> dict:
    frame = sst2("train")
    frame["source_file"] = "train.tsv"
    frame["source_line"] = range(2, len(frame) + 2)
    validate_examples(frame.head(200), ValidationRules(min_examples_per_class=1))  # warm GX imports
    with Timer() as validate:
        outcome = validate_examples(frame, ValidationRules())
    splits = outcome.valid.copy()
    splits["split"] = assign_splits(splits["text"], 0.8, 0.1)
    tokenizer = BaseModelSource(name_or_path=minilm_path()).load_tokenizer()
    labels = label_order(splits["label"].tolist())
    build_dataset_dict(splits.head(500), tokenizer, labels, 128)  # warm the tokenizer
    runs = []
    for _ in range(3):
        with Timer() as tokenize:
            build_dataset_dict(splits, tokenizer, labels, 128)
        runs.append(tokenize.seconds)
    best = min(runs)
    return write_result(
        "data",
        {
            "rows": len(frame),
            "validate_seconds": round(validate.seconds, 2),
            "validate_target_seconds": 15,
            "quarantined": len(outcome.quarantined),
            "tokenize_rows": len(splits),
            "tokenize_seconds_best_of_3": round(best, 3),
            "tokenize_rows_per_second": round(len(splits) / best),
            "tokenize_target_rows_per_second": 20000,
            "note": "tokenize = fast-tokenizer encode + truncation + Arrow DatasetDict build",
        },
    )


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    main()
