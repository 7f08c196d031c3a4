"""Loading the base encoder with a fresh classification head, loading a fine-tuned one, freezing layers."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    set_seed,
)

from ft_assets.training.config import Pooling
from ft_assets.training.pooled import MeanPooledClassifier, trained_with_mean_pooling


def resolve_pooling(base_model: str | Path, pooling: Pooling) -> Literal["cls", "mean"]:
    """auto: mean for sentence encoders trained with mean pooling, else the model's own [CLS] head."""
    if pooling != "auto":
        return pooling
    return "mean" if trained_with_mean_pooling(base_model) else "cls"


def load_classifier(
    base_model: str | Path, label_names: list[str], seed: int, pooling: Pooling = "auto"
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Base encoder + randomly initialised head sized for ``label_names``, and its tokenizer."""
    if len(label_names) < 2:
        raise ValueError(f"need at least two labels, got {label_names}")
    if len(set(label_names)) != len(label_names):
        raise ValueError(f"label names must be unique, got {label_names}")
    # The head is initialised inside from_pretrained, so the seed must be set before it for
    # two runs with the same seed to start from the same weights.
    set_seed(seed)
    labels = {
        "num_labels": len(label_names),
        "id2label": dict(enumerate(label_names)),
        "label2id": {name: i for i, name in enumerate(label_names)},
    }
    model: PreTrainedModel
    if resolve_pooling(base_model, pooling) == "mean":
        model = MeanPooledClassifier.from_encoder(base_model, **labels)
    else:
        model = AutoModelForSequenceClassification.from_pretrained(
            str(base_model), **labels, use_safetensors=True, trust_remote_code=False
        )
    tokenizer = AutoTokenizer.from_pretrained(str(base_model), trust_remote_code=False)
    return model, tokenizer


def load_finetuned(model_dir: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A fine-tuned classifier (either head) in eval mode and its tokenizer; safetensors, no remote code."""
    model = AutoModelForSequenceClassification.from_pretrained(
        str(model_dir), use_safetensors=True, trust_remote_code=False
    )
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), trust_remote_code=False)
    return model, tokenizer


def freeze_lower_layers(model: PreTrainedModel, num_layers: int) -> list[str]:
    """Freeze the embeddings and the ``num_layers`` lowest encoder layers; return their module names.

    Lower layers hold generic lexical features that a small labelled set mostly degrades,
    and frozen parameters skip the backward pass and optimizer state.
    """
    if num_layers <= 0:
        return []
    encoder = model.base_model
    embeddings = getattr(encoder, "embeddings", None)
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if not isinstance(embeddings, torch.nn.Module) or not isinstance(layers, torch.nn.ModuleList):
        raise ValueError(
            f"frozen_layers needs a BERT-like model exposing base_model.embeddings and "
            f"base_model.encoder.layer; {type(model).__name__} does not. Set frozen_layers=0."
        )
    if num_layers > len(layers):
        raise ValueError(f"frozen_layers={num_layers} but the model has only {len(layers)} encoder layers")
    frozen = [embeddings, *layers[:num_layers]]
    for module in frozen:
        module.requires_grad_(False)
    prefix = model.base_model_prefix
    return [f"{prefix}.embeddings"] + [f"{prefix}.encoder.layer.{i}" for i in range(num_layers)]
