"""Torch inference over a tokenized split, batched with dynamic padding.

The split was cut to max_length by the encoder ft-predict uses (``ft_serving.encoding``), so these are
the predictions the exported bundle reproduces (its bundle.json records the same max_length).
"""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import torch
from ft_serving.spec import MODEL_INPUTS
from transformers import DataCollatorWithPadding

from ft_assets.training.model import load_finetuned


def predict_split(model_dir: Path, split: datasets.Dataset, batch_size: int = 64) -> np.ndarray:
    """Logits for every row of `split`, in row order."""
    model, tokenizer = load_finetuned(Path(model_dir))
    collate = DataCollatorWithPadding(tokenizer)
    columns = [c for c in MODEL_INPUTS if c in split.column_names]
    # Sorting by length keeps padding small; the inverse permutation restores row order.
    order = np.argsort([len(ids) for ids in split["input_ids"]], kind="stable")
    logits = np.zeros((len(split), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = collate([{c: split[int(i)][c] for c in columns} for i in rows])
            logits[rows] = model(**batch).logits.float().numpy()
    return logits
