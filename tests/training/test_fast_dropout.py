"""The CPU dropout drawn from 16-bit numbers is dropout: its rate, its scale, its gradient, its masks."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from transformers import AutoModel

from ft_assets.training import fast_dropout as fd


@pytest.mark.parametrize("p", [0.1, 0.5, 0.03])
def test_it_keeps_each_element_with_probability_one_minus_p(p):
    torch.manual_seed(0)
    count = 2_000_000
    keep, kept_fraction = fd.keep_mask(torch.Size([count]), p)
    assert abs(kept_fraction - (1 - p)) < 2**-17
    # Five standard errors of a binomial proportion: fails for a biased draw, not by chance.
    assert abs(keep.float().mean().item() - kept_fraction) < 5 * math.sqrt(p * (1 - p) / count)


def test_masks_are_independent_across_positions_and_calls():
    torch.manual_seed(0)
    first, _ = fd.keep_mask(torch.Size([400_000]), 0.5)
    second, _ = fd.keep_mask(torch.Size([400_000]), 0.5)
    # Neighbours come from one 64-bit word; they must not be correlated, nor two calls alike.
    agreement_neighbours = (first[:-1] == first[1:]).float().mean().item()
    agreement_calls = (first == second).float().mean().item()
    assert abs(agreement_neighbours - 0.5) < 0.01 and abs(agreement_calls - 0.5) < 0.01


def test_kept_elements_are_scaled_so_the_expectation_is_unchanged_and_the_gradient_uses_the_same_mask():
    torch.manual_seed(0)
    x = torch.randn(64, 50, 32, requires_grad=True)
    out = fd.fast_dropout(x, 0.1)
    out.backward(torch.ones_like(out))
    kept = out != 0
    _, kept_fraction = fd.keep_mask(torch.Size([1]), 0.1)
    torch.testing.assert_close(out[kept], x.detach()[kept] / kept_fraction)
    torch.testing.assert_close(x.grad, kept.float() / kept_fraction)
    assert 0.88 < kept.float().mean().item() < 0.92


def test_the_same_seed_gives_the_same_masks():
    x = torch.randn(8, 16)
    torch.manual_seed(3)
    first = fd.fast_dropout(x, 0.3)
    torch.manual_seed(3)
    assert torch.equal(fd.fast_dropout(x, 0.3), first)
    assert not torch.equal(fd.fast_dropout(x, 0.3), first)


def test_outside_training_and_at_p_zero_it_is_the_identity_and_p_one_drops_everything():
    x = torch.randn(4, 5)
    module = fd.FastDropout(0.1).eval()
    assert module(x) is x and fd.fast_dropout(x, 0.0) is x
    assert torch.equal(fd.fast_dropout(x, 1.0), torch.zeros_like(x))


def _padded_batch() -> dict[str, torch.Tensor]:
    ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102], [101, 2748, 102, 0, 0, 0]])
    return {"input_ids": ids, "attention_mask": (ids != 0).long()}


def test_training_attention_masks_padding_as_sdpa_does(tiny_model_dir: Path, monkeypatch):
    stock = AutoModel.from_pretrained(tiny_model_dir, use_safetensors=True).eval()
    fast = AutoModel.from_pretrained(tiny_model_dir, use_safetensors=True)
    assert fd.use_fast_dropout(fast, fast) == 7  # embeddings, 2 layers x (attention, 2 hidden)
    assert fast.config._attn_implementation == fd.ATTENTION
    # Every element kept: the training path (dropout > 0) must then compute what eval-mode SDPA does.
    monkeypatch.setattr(fd, "keep_mask", lambda shape, p: (torch.ones(shape, dtype=torch.bool), 1.0))
    fast.train()
    batch = _padded_batch()
    with torch.no_grad():
        expected = stock(**batch).last_hidden_state
        got = fast(**batch).last_hidden_state
        unmasked = fast(input_ids=batch["input_ids"]).last_hidden_state
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    # The padding changes the short row's states, so the comparison above did see the mask.
    assert not torch.allclose(unmasked[1, :3], expected[1, :3], atol=1e-4)


def test_the_saved_config_names_no_custom_attention(tiny_model_dir: Path, tmp_path: Path):
    model = AutoModel.from_pretrained(tiny_model_dir, use_safetensors=True)
    fd.use_fast_dropout(model, model)
    model.save_pretrained(tmp_path)
    assert fd.ATTENTION not in json.dumps(json.loads((tmp_path / "config.json").read_text()))
    reloaded = AutoModel.from_pretrained(tmp_path, use_safetensors=True)
    assert reloaded.config._attn_implementation == "sdpa"
