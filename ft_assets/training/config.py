"""Fine-tuning hyperparameters, editable in Dagster's Launchpad."""

from __future__ import annotations

from typing import Literal

import dagster as dg
from pydantic import Field, field_validator, model_validator

Method = Literal["head_only", "partial", "full", "lora"]
Pooling = Literal["auto", "cls", "mean"]

# Measured with the bundled MiniLM: benchmarks/results/defaults_sst2_lora.json, methods*.json.
METHOD_LEARNING_RATES: dict[str, float] = {"full": 1e-4, "partial": 1e-4, "lora": 2e-3, "head_only": 1e-2}


# Measured with the bundled MiniLM (README, Training defaults): the probe helped full fine-tuning on
# three of four held-out sets and cost LoRA 1.2-1.6 points (defaults_sst2_lora_probe*.json).
METHOD_LINEAR_PROBE: dict[str, bool] = {"full": True, "partial": True, "lora": False}


class TrainConfig(dg.Config):
    """Hyperparameters for fine-tuning a sentence encoder (MiniLM by default) as a text classifier.

    Defaults favour short CPU runs: a small encoder converges in a few epochs at a learning rate
    higher than the usual 2e-5..5e-5 for BERT-base, and early stopping cuts the run when the
    validation metric stalls.
    """

    epochs: int = Field(default=3, ge=1, le=100, description="Maximum number of passes over the train split.")
    learning_rate: float | None = Field(
        default=None,
        gt=0.0,
        le=1.0,
        description=(
            "Peak AdamW learning rate, reached after warm-up and decayed linearly to zero. Unset: the "
            "method's own ("
            + ", ".join(f"{method} {rate:g}" for method, rate in METHOD_LEARNING_RATES.items())
            + "); adapters and a lone head need larger steps than the whole network."
        ),
    )
    batch_size: int = Field(default=32, ge=1, description="Training examples per device per forward pass.")
    gradient_accumulation_steps: int = Field(
        default=1,
        ge=1,
        description="Forward passes per optimizer step (effective batch = batch_size × this).",
    )
    warmup_ratio: float = Field(
        default=0.06, ge=0.0, lt=1.0, description="Fraction of the optimizer steps spent warming up the rate."
    )
    weight_decay: float = Field(
        default=0.01, ge=0.0, description="AdamW decoupled weight decay (not applied to biases/LayerNorm)."
    )
    seed: int = Field(
        default=42,
        ge=0,
        description="Seed for head initialisation, dropout and data order (reproducible runs).",
    )
    early_stopping_patience: int = Field(
        default=2,
        ge=0,
        description="Stop after this many epochs without improvement of metric_for_best_model; 0 disables.",
    )
    frozen_layers: int = Field(
        default=0,
        ge=0,
        description="partial: freeze the embeddings and this many lowest encoder layers.",
    )
    class_weights: bool = Field(
        default=False,
        description="Weight the loss by inverse class frequency of the train split (helps imbalanced data).",
    )
    max_steps: int = Field(
        default=-1,
        ge=-1,
        description="Stop after this many optimizer steps (overrides epochs); -1 = no limit. For smoke runs.",
    )
    max_train_seconds: float | None = Field(
        default=None,
        gt=0.0,
        description=(
            "A training-time budget: after every step the run re-plans its last step from the pace so far, "
            "so that it ends within this many seconds of training (evaluation and checkpoints not "
            "counted), the learning rate decayed to zero there. epochs and max_steps stay the upper bound. "
            "Unset: no budget."
        ),
    )
    eval_batch_size: int = Field(default=64, ge=1, description="Examples per forward pass during evaluation.")
    metric_for_best_model: Literal["macro_f1", "accuracy", "loss"] = Field(
        default="macro_f1",
        description=(
            "Validation metric that drives early stopping and, with keep_model=best, picks the checkpoint."
        ),
    )
    keep_model: Literal["final", "best"] = Field(
        default="final",
        description=(
            "Which weights become the model. final: those at the end of training (where early stopping "
            "stopped it, if it did); the learning rate has decayed to zero there. best: the epoch with the "
            "best validation metric_for_best_model. A validation split of a few hundred rows often ranks "
            "epochs by chance: on held-out data its earlier picks scored 1.4-1.7 points below the final "
            "weights (README, Training defaults)."
        ),
    )

    method: Method = Field(
        default="full",
        description=(
            "What trains: head_only (encoder frozen, only the classification head), partial (frozen_layers "
            "lowest layers frozen), full (everything), lora (low-rank adapters, merged into the weights "
            "before saving, so the exported model is a plain one)."
        ),
    )
    freeze_word_embeddings: bool = Field(
        default=False,
        description=(
            "full: keep the word-embedding table as pre-trained (half of MiniLM's parameters), so it costs "
            "no gradient or optimizer update: 1.07-1.25x faster training, but on held-out SST-2 it cost "
            "1.2-1.9 points at 28,500 train rows and 0.5 on average at 5,700 (README, Training "
            "defaults). Other methods freeze it anyway."
        ),
    )
    pooling: Pooling = Field(
        default="auto",
        description=(
            "What the classification head reads. mean: the mean of the token vectors (how sentence "
            "encoders such as the bundled MiniLM are trained to be read); cls: the model's own "
            "*ForSequenceClassification head on [CLS]; auto: mean when the base model is a "
            "sentence-transformers model with mean pooling, else cls."
        ),
    )
    linear_probe: bool | None = Field(
        default=None,
        description=(
            "Before fine-tuning, fit the new head by logistic regression on the frozen encoder's "
            "features (one inference pass over train), so training starts from a fitted head instead "
            "of a random one that pulls the encoder's features off course (LP-FT). Unset: the method's "
            "own ("
            + ", ".join(f"{method} {'on' if on else 'off'}" for method, on in METHOD_LINEAR_PROBE.items())
            + "); README, Training defaults, has the measurements. Not for head_only, which trains "
            "the head alone anyway."
        ),
    )
    cache_features: bool = Field(
        default=True,
        description=(
            "head_only: run the frozen encoder once over train and validation and train the head on its "
            "outputs, so each epoch costs only the head (no encoder dropout on the cached features)."
        ),
    )
    lora_r: int = Field(default=8, ge=1, description="lora: rank of the adapter matrices.")
    lora_alpha: int = Field(default=16, ge=1, description="lora: scaling (the update is scaled by alpha/r).")
    lora_dropout: float = Field(default=0.1, ge=0.0, lt=1.0, description="lora: dropout on adapter inputs.")
    lora_target_modules: list[str] = Field(
        default=["query", "value"],
        min_length=1,
        description="lora: names of the linear layers that get adapters (BERT: query, key, value, dense).",
    )
    lora_modules_to_save: list[str] = Field(
        default=[],
        description=(
            "lora: modules trained in full beside the adapters and the new head, e.g. BERT's pooler, which "
            "otherwise keeps its pre-training projection between the encoder and the head."
        ),
    )

    @field_validator("max_steps")
    @classmethod
    def _max_steps_positive_or_unlimited(cls, value: int) -> int:
        # HF treats 0 as "no limit" too, which would silently turn a smoke run into a full one.
        if value == 0:
            raise ValueError("max_steps must be -1 (no limit) or a positive number of steps")
        return value

    @model_validator(mode="after")
    def _frozen_layers_belong_to_partial(self) -> TrainConfig:
        # method alone decides what trains; frozen_layers under another method would be silently ignored.
        if self.method == "partial" and self.frozen_layers == 0:
            raise ValueError("method='partial' needs frozen_layers >= 1")
        if self.method != "partial" and self.frozen_layers > 0:
            raise ValueError(f"frozen_layers applies to method='partial' only, not method={self.method!r}")
        return self

    @model_validator(mode="after")
    def _no_probe_for_head_only(self) -> TrainConfig:
        # head_only trains nothing but the head, so a probe first would be that run done twice.
        if self.method == "head_only" and self.linear_probe:
            raise ValueError("linear_probe applies to full, partial and lora, not method='head_only'")
        return self

    @property
    def fits_linear_probe(self) -> bool:
        if self.linear_probe is not None:
            return self.linear_probe
        return METHOD_LINEAR_PROBE.get(self.method, False)

    @property
    def peak_learning_rate(self) -> float:
        return self.learning_rate if self.learning_rate is not None else METHOD_LEARNING_RATES[self.method]

    @property
    def greater_is_better(self) -> bool:
        return self.metric_for_best_model != "loss"
