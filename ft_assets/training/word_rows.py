"""Full fine-tuning trains only the word-embedding rows of tokens that occur in the train split.

A row whose token never occurs in a batch gets a zero gradient, but a dense gradient still covers the
whole table (MiniLM: 30,522 x 384, half the model): every step zero-fills it, clips it and runs AdamW
over it. On SST-2-length batches that was about a fifth of a CPU step. AdamW moves a row whose gradient
has always been zero only by weight decay (lr x 0.01 of it a step, about 3e-4 of its length over a
default run), so leaving those rows out changes nothing else: the other rows and every other weight
train as before.
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import torch
from torch.nn import functional
from transformers import PreTrainedModel

from ft_assets.training.data import PreparedSplit


def token_ids_in(split: PreparedSplit) -> np.ndarray:
    """The sorted distinct token ids of ``split``'s input_ids."""
    column = split.dataset.with_format("arrow")["input_ids"]
    return np.sort(pc.unique(pc.list_flatten(column)).to_numpy())


class UsedRowsEmbedding(torch.nn.Module):
    """A word-embedding table whose trainable part is the rows of ``rows``; the others are a frozen buffer."""

    def __init__(self, base: torch.nn.Embedding, rows: np.ndarray) -> None:
        super().__init__()
        weight = base.weight.detach()
        # Not persistent: the model is rebuilt from the base weights and the same rows on resume.
        self.register_buffer("frozen", weight.clone(), persistent=False)
        index = torch.as_tensor(rows, dtype=torch.long)
        slot = torch.full((base.num_embeddings,), -1, dtype=torch.long)
        slot[index] = torch.arange(len(index))
        self.register_buffer("slot", slot, persistent=False)
        self.register_buffer("row_ids", index, persistent=False)
        self.rows = torch.nn.Parameter(weight[index].clone())
        self.padding_idx = base.padding_idx

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        slot = self.slot[input_ids]
        frozen = functional.embedding(input_ids, self.frozen)
        trained = functional.embedding(slot.clamp(min=0), self.rows)
        return torch.where((slot >= 0).unsqueeze(-1), trained, frozen)

    @property
    def untouched_parameters(self) -> int:
        """Weights of the rows that stay as pre-trained."""
        return self.frozen.numel() - self.rows.numel()

    def merged_weight(self) -> torch.Tensor:
        weight = self.frozen.clone()
        weight[self.row_ids] = self.rows.detach().to(weight.dtype)
        return weight

    def merged(self) -> torch.nn.Embedding:
        """A plain table: the frozen rows with the trained ones written back."""
        weight = self.merged_weight()
        return torch.nn.Embedding.from_pretrained(weight, freeze=False, padding_idx=self.padding_idx)

    # State dicts (checkpoints, the best-model reload) hold the whole table as nn.Embedding's "weight", so a
    # checkpoint is a stock model and loads into this module or a plain table alike.
    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        destination[prefix + "weight"] = self.merged_weight()

    def _load_from_state_dict(
        self,
        state_dict: dict,
        prefix: str,
        local_metadata: dict,
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        key = prefix + "weight"
        if key not in state_dict:
            missing_keys.append(key)
            return
        weight = state_dict[key]
        if weight.shape != self.frozen.shape:
            error_msgs.append(f"{key}: shape {tuple(weight.shape)}, expected {tuple(self.frozen.shape)}")
            return
        with torch.no_grad():
            self.frozen.copy_(weight)
            self.rows.copy_(weight[self.row_ids])


def train_used_rows(model: PreTrainedModel, train: PreparedSplit) -> UsedRowsEmbedding | None:
    """Make only the word-table rows of tokens in ``train`` trainable and return the new table; None where
    the table does not train (a method or freeze_word_embeddings froze it) or is not a plain embedding
    this can stand in for."""
    table = model.get_input_embeddings()
    if not isinstance(table, torch.nn.Embedding) or not table.weight.requires_grad:
        return None
    if (table.max_norm, table.scale_grad_by_freq, table.sparse) != (None, False, False):
        return None
    token_ids = token_ids_in(train)
    rows = token_ids[(token_ids >= 0) & (token_ids < table.num_embeddings)]
    if table.padding_idx is not None:
        # nn.Embedding never gives the padding row a gradient; neither does this.
        rows = rows[rows != table.padding_idx]
    used = UsedRowsEmbedding(table, rows)
    model.set_input_embeddings(used)
    return used


def merge_used_rows(model: PreTrainedModel) -> None:
    """Put a plain nn.Embedding back in place of a UsedRowsEmbedding, so the saved model is a stock one."""
    table = model.get_input_embeddings()
    if isinstance(table, UsedRowsEmbedding):
        model.set_input_embeddings(table.merged())
