"""The fine-tuning method: which parameters train, and how the trained model becomes a plain one again."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from peft import LoraConfig, PeftModel, TaskType, get_peft_model
from transformers import PreTrainedModel

from ft_assets.training.config import TrainConfig
from ft_assets.training.model import freeze_lower_layers
from ft_assets.training.pooled import MeanPooledClassifier
from ft_assets.training.word_rows import merge_used_rows


@dataclass(frozen=True)
class MethodSummary:
    """What the method left trainable; reported in metadata, the model card and the benchmark."""

    method: str
    trainable_parameters: int
    total_parameters: int
    adapter_bytes: int | None  # lora only: the size of what a PEFT adapter file would hold
    detail: str
    pooling: str  # what the head reads: "mean" (of the token vectors) or "cls" (the model's own head)

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "method": self.method,
            "trainable_parameters": self.trainable_parameters,
            "total_parameters": self.total_parameters,
            "adapter_bytes": self.adapter_bytes,
            "detail": self.detail,
            "pooling": self.pooling,
        }


def apply_method(model: PreTrainedModel, config: TrainConfig) -> tuple[torch.nn.Module, MethodSummary]:
    """Freeze or wrap ``model`` as ``config.method`` says; return the module the Trainer should train."""
    trained: torch.nn.Module = model
    if config.method == "full":
        detail = "every parameter trains"
        if config.freeze_word_embeddings:
            model.get_input_embeddings().requires_grad_(False)
            detail = "every parameter but the word-embedding table trains"
    elif config.method == "partial":
        detail = "frozen: " + ", ".join(freeze_lower_layers(model, config.frozen_layers))
    elif config.method == "head_only":
        model.base_model.requires_grad_(False)
        detail = f"frozen: {model.base_model_prefix} (the whole encoder)"
    else:
        _check_lora_targets(model, config.lora_target_modules)
        _check_modules_to_save(model, config.lora_modules_to_save)
        lora = LoraConfig(
            task_type=TaskType.SEQ_CLS,  # keeps the new classification head trainable and saved
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=list(config.lora_target_modules),
            modules_to_save=list(config.lora_modules_to_save) or None,
        )
        trained = get_peft_model(model, lora)
        detail = (
            f"LoRA r={config.lora_r}, alpha={config.lora_alpha}, dropout={config.lora_dropout} on "
            f"{', '.join(config.lora_target_modules)}"
            + (
                f", {', '.join(config.lora_modules_to_save)} trained in full"
                if config.lora_modules_to_save
                else ""
            )
            + "; merged before saving"
        )
    return trained, summarize(trained, config.method, detail, pooling_of(model))


def _check_lora_targets(model: PreTrainedModel, targets: list[str]) -> None:
    # peft's own error does not say which name missed, nor what the model calls its layers.
    linear = sorted(
        {
            name.rsplit(".", 1)[-1]
            for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear)
        }
    )
    missing = [target for target in targets if target not in linear]
    if missing:
        raise ValueError(
            f"lora_target_modules {missing} name no linear layer of {type(model).__name__}; "
            f"its linear layers are: {', '.join(linear)}"
        )


def _check_modules_to_save(model: PreTrainedModel, names: list[str]) -> None:
    children = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [name for name in names if name not in children]
    if missing:
        raise ValueError(f"lora_modules_to_save {missing} name no module of {type(model).__name__}")


def pooling_of(model: PreTrainedModel) -> str:
    return "mean" if isinstance(model, MeanPooledClassifier) else "cls"


def summarize(trained: torch.nn.Module, method: str, detail: str, pooling: str) -> MethodSummary:
    parameters = list(trained.parameters())
    trainable = [p for p in parameters if p.requires_grad]
    return MethodSummary(
        method=method,
        trainable_parameters=sum(p.numel() for p in trainable),
        total_parameters=sum(p.numel() for p in parameters),
        adapter_bytes=sum(p.numel() * p.element_size() for p in trainable) if method == "lora" else None,
        detail=detail,
        pooling=pooling,
    )


def plain_model(trained: torch.nn.Module) -> PreTrainedModel:
    """The model to save: LoRA adapters folded into the base weights, so export and serving see no PEFT,
    and a word table trained by its used rows made whole again."""
    if isinstance(trained, PeftModel):
        return trained.merge_and_unload()
    if not isinstance(trained, PreTrainedModel):
        raise TypeError(f"expected a transformers model, got {type(trained).__name__}")
    merge_used_rows(trained)
    return trained
