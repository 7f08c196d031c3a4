"""Dropout on CPU from 16-bit random numbers: the same masks in distribution, a fraction of the cost.

torch's CPU dropout draws its mask with ``bernoulli_``, one generator call per element: about 6 ns an
element here, 2.5 ms for one MiniLM hidden state of a 32 x 34-token batch. A training step has 20 such
dropouts (hidden states, attention probabilities, the head), which made ``bernoulli_`` 14 % of a bf16 step
on 2 Zen 4 cores, more than attention itself. This mask comes from 64-bit words of the same generator,
cut into four 16-bit numbers: an element is kept when its number is at or above ``round(p x 65536)`` of
the 65,536 values, so the kept fraction differs from ``1 - p`` by less than 2^-17, and the kept elements
are scaled by the inverse of that exact fraction so that the expectation is unchanged. The draws come from
torch's default generator, so ``set_seed`` and the Trainer's resume make them as reproducible as
``nn.Dropout``'s.

On other devices (CUDA's generator is already fast) and outside training the modules do what
``nn.Dropout`` does. Nothing here holds state, so saved models are unchanged.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional
from transformers import AttentionInterface, PreTrainedModel
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

LEVELS = 1 << 16
# The attention implementation name the training model uses while it trains on CPU.
ATTENTION = "ft_sdpa_fast_dropout"


def keep_mask(shape: torch.Size, p: float) -> tuple[torch.Tensor, float]:
    """A boolean mask of ``shape``, each element kept with probability ``1 - p`` (to 2^-17), and that
    exact probability."""
    count = math.prod(shape)
    words = torch.empty((count + 3) // 4, dtype=torch.int64).random_(-(2**63), 2**63 - 1)
    draws = words.view(torch.int16)[:count].view(shape)
    dropped = round(p * LEVELS)
    return draws >= dropped - LEVELS // 2, 1 - dropped / LEVELS


def fast_dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """``functional.dropout`` with the CPU mask drawn as the module doc says."""
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or p >= 1.0:
        return functional.dropout(x, p, training=True)
    keep, kept_fraction = keep_mask(x.shape, p)
    # where() keeps only the boolean mask for the backward pass, as nn.Dropout does.
    return torch.where(keep, x * (1.0 / kept_fraction), 0.0)


class FastDropout(torch.nn.Dropout):
    """nn.Dropout whose CPU mask is drawn by ``keep_mask``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fast_dropout(x, self.p, self.training)


def attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: object,
) -> tuple[torch.Tensor, None]:
    """SDPA, except when it would drop attention probabilities on CPU: then the same computation as
    SDPA's own CPU path for that case (scores, mask, softmax, dropout, values), with this module's mask."""
    if dropout == 0.0 or query.device.type != "cpu" or getattr(module, "is_causal", False):
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    scale = scaling if scaling is not None else query.size(-1) ** -0.5
    scores = torch.matmul(query, key.transpose(2, 3)) * scale
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask
    probabilities = fast_dropout(functional.softmax(scores, dim=-1, dtype=torch.float32), dropout)
    output = torch.matmul(probabilities.to(value.dtype), value)
    return output.transpose(1, 2).contiguous(), None


AttentionInterface.register(ATTENTION, attention)
# Without a mask function of its own a custom implementation gets no padding mask at all.
AttentionMaskInterface.register(ATTENTION, sdpa_mask)


def use_fast_dropout(model: PreTrainedModel, trained: torch.nn.Module) -> int:
    """Swap every nn.Dropout in ``trained`` for FastDropout and, where ``model`` attends through SDPA, its
    attention for ``attention``; return how many dropout modules were swapped. The attention choice is
    not saved with the config, so saved models and checkpoints name no custom code."""
    swapped = 0
    for parent in trained.modules():
        for name, child in parent.named_children():
            if type(child) is torch.nn.Dropout:
                setattr(parent, name, FastDropout(child.p, child.inplace))
                swapped += 1
    if model.config._attn_implementation == "sdpa":
        model.set_attn_implementation(ATTENTION)
    return swapped
