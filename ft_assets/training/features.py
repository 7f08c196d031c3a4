"""head_only with cached features: the frozen encoder runs once, the epochs train only the head."""

from __future__ import annotations

import datasets
import numpy as np
import torch
from transformers import DataCollatorWithPadding, PreTrainedModel, PreTrainedTokenizerBase

from ft_assets.training.data import PreparedSplit
from ft_resources.accelerator import DeviceSettings

# Names transformers classifiers give their head (BERT/RoBERTa/DistilBERT: classifier; decoder models: score).
HEAD_NAMES = ("classifier", "score")


class FeatureHead(torch.nn.Module):
    """The model's own head module, fed with cached head inputs; training it trains the model's head."""

    def __init__(self, head: torch.nn.Module) -> None:
        super().__init__()
        self.head = head

    def forward(
        self, features: torch.Tensor, token_count: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        # token_count only rides along so the trainer can count the tokens this batch stands for.
        return {"logits": self.head(features)}


def head_of(model: PreTrainedModel) -> torch.nn.Module:
    for name in HEAD_NAMES:
        head = getattr(model, name, None)
        if isinstance(head, torch.nn.Module):
            return head
    raise ValueError(
        f"{type(model).__name__} has no classification head named {' or '.join(HEAD_NAMES)}; "
        "set cache_features=false"
    )


@torch.no_grad()
def cache_head_inputs(
    model: PreTrainedModel,
    split: PreparedSplit,
    tokenizer: PreTrainedTokenizerBase,
    device: DeviceSettings,
    batch_size: int,
) -> datasets.Dataset:
    """Run ``model`` once over ``split`` in eval mode and keep what its head receives, one vector per row."""
    head = head_of(model)
    captured: list[torch.Tensor] = []
    hook = head.register_forward_pre_hook(lambda _module, args: captured.append(args[0].float().cpu()))
    model.to(device.device).eval()
    collate = DataCollatorWithPadding(tokenizer)
    # Rows in length order waste no compute on padding; the result is put back in row order.
    order = np.argsort(split.lengths, kind="stable")
    autocast = torch.autocast(device.device, dtype=torch.bfloat16, enabled=device.precision == "bf16")
    try:
        with autocast:
            for start in range(0, len(order), batch_size):
                rows = split.dataset.select(order[start : start + batch_size].tolist())
                batch = collate([{k: v for k, v in row.items() if k != "labels"} for row in rows])
                model(**{key: value.to(device.device) for key, value in batch.items()})
    finally:
        hook.remove()
    features = torch.cat(captured)
    if features.dim() != 2:
        raise ValueError(
            f"the head of {type(model).__name__} takes {tuple(features.shape[1:])} per text, not one vector; "
            "set cache_features=false"
        )
    restored = torch.empty_like(features)
    restored[torch.from_numpy(order)] = features
    return datasets.Dataset.from_dict(
        {
            "features": restored.numpy(),
            "labels": split.labels,
            "token_count": np.asarray(split.lengths, dtype=np.int64),
        }
    ).with_format("torch")
