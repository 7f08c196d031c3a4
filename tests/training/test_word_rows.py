"""Training the used rows of the word table is training the whole table, minus rows that get no gradient."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from ft_assets.training.word_rows import UsedRowsEmbedding


def _table() -> torch.nn.Embedding:
    torch.manual_seed(0)
    return torch.nn.Embedding(40, 6, padding_idx=0)


def test_it_looks_up_what_the_table_does():
    table = _table()
    rows = UsedRowsEmbedding(table, np.array([3, 5, 7, 11]))
    ids = torch.tensor([[0, 3, 4, 5], [7, 11, 39, 0]])
    torch.testing.assert_close(rows(ids), table(ids), rtol=0, atol=0)


@pytest.mark.parametrize("steps", [1, 4])
def test_adamw_on_the_used_rows_ends_where_adamw_on_the_whole_table_does(steps):
    whole = _table()
    used = np.array([2, 3, 5, 9, 17])
    rows = UsedRowsEmbedding(copy.deepcopy(whole), used)
    torch.manual_seed(1)
    batches = [torch.as_tensor(np.random.default_rng(i).choice(used, size=(3, 4))) for i in range(steps)]
    targets = [torch.randn(3, 4, 6) for _ in range(steps)]
    for module in (whole, rows):
        # No weight decay: with it, AdamW would also shrink the rows no batch uses (by lr x decay a step).
        optimizer = torch.optim.AdamW(module.parameters(), lr=0.1, weight_decay=0.0)
        for ids, target in zip(batches, targets, strict=True):
            ((module(ids) - target) ** 2).mean().backward()
            optimizer.step()
            optimizer.zero_grad()
    merged = rows.merged().weight.detach()
    torch.testing.assert_close(merged, whole.weight.detach(), rtol=1e-6, atol=1e-6)
    assert not torch.equal(merged[used], _table().weight.detach()[used])  # the rows did train
    assert merged.shape == whole.weight.shape and rows.merged().padding_idx == 0


def test_its_state_dict_is_a_plain_tables_so_checkpoints_are_stock_models():
    table = _table()
    rows = UsedRowsEmbedding(table, np.array([3, 5]))
    with torch.no_grad():
        rows.rows.add_(1.0)
    state = rows.state_dict()
    assert list(state) == ["weight"]
    torch.testing.assert_close(state["weight"], rows.merged().weight.detach(), rtol=0, atol=0)
    plain = _table()
    plain.load_state_dict(state)  # a plain table takes it as is
    reloaded = UsedRowsEmbedding(_table(), np.array([3, 5]))
    reloaded.load_state_dict(state)
    ids = torch.tensor([[0, 3, 4, 5]])
    torch.testing.assert_close(reloaded(ids), plain(ids), rtol=0, atol=0)
    torch.testing.assert_close(reloaded.rows.detach(), rows.rows.detach(), rtol=0, atol=0)
    with pytest.raises(RuntimeError, match="shape"):
        reloaded.load_state_dict({"weight": torch.zeros(3, 6)})
