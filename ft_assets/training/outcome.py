"""The result of a training run: where the model is, how good and how fast it was."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVAL_KEYS = ("eval_loss", "eval_accuracy", "eval_macro_f1")


@dataclass(frozen=True)
class TrainOutcome:
    """Summary of ``train_classifier``; throughput figures cover only this process's training steps."""

    model_dir: Path
    metric_name: str
    best_metric: float | None  # None when no evaluation ran (max_steps ended inside the first epoch)
    best_step: int | None
    best_epoch: float | None
    keep_model: str  # "final" or "best": which weights model_dir holds (TrainConfig.keep_model)
    kept_step: int | None  # the step of those weights
    kept_metric: float | None  # their validation metric; None when training ended between evaluations
    epochs_completed: float  # fractional when max_steps stopped mid-epoch
    global_step: int
    resumed_from_step: int | None
    resume: str  # which verified checkpoint training resumed from, or why it started fresh
    train_seconds: float  # inside trainer.train(), minus evaluation and checkpoint writing
    wall_seconds: float  # the whole call, model loading and final save included
    train_samples: int
    train_tokens: int  # non-padding tokens
    train_samples_per_second: float
    train_tokens_per_second: float
    log_history: list[dict[str, Any]]
    device: str
    precision: str
    fine_tuning: dict[str, str | int | None] = field(default_factory=dict)  # MethodSummary.as_dict()
    feature_cache_seconds: float = 0.0  # head_only with cached features: the one encoder pass
    linear_probe_seconds: float = 0.0  # linear_probe: encoder pass and head fit before training
    world_size: int = 1
    peak_memory_mb: float = 0.0  # this process's peak resident memory (GPU memory on CUDA)
    device_name: str = ""
    rank_digests: list[str] = field(default_factory=list)  # under torchrun: each rank's parameter hash

    @property
    def train_losses(self) -> list[dict[str, float]]:
        """Training loss per logging step: ``{"step", "epoch", "loss", "learning_rate"}``."""
        return [
            {
                "step": entry["step"],
                "epoch": entry.get("epoch", 0.0),
                "loss": entry["loss"],
                "learning_rate": entry.get("learning_rate", float("nan")),
            }
            for entry in self.log_history
            if "loss" in entry
        ]

    @property
    def evaluations(self) -> list[dict[str, float]]:
        """Validation metrics per epoch: step, epoch, eval_loss, eval_accuracy, eval_macro_f1."""
        return [
            {"step": entry["step"], "epoch": entry.get("epoch", 0.0)}
            | {key: entry[key] for key in EVAL_KEYS if key in entry}
            for entry in self.log_history
            if "eval_loss" in entry
        ]

    def summary(self) -> dict[str, str | int | float | None]:
        """Flat scalars, ready for Dagster metadata."""
        return {
            "model_dir": str(self.model_dir),
            "metric_name": self.metric_name,
            "best_metric": self.best_metric,
            "best_step": self.best_step,
            "best_epoch": self.best_epoch,
            "keep_model": self.keep_model,
            "kept_step": self.kept_step,
            "kept_metric": self.kept_metric,
            "epochs_completed": self.epochs_completed,
            "global_step": self.global_step,
            "resumed_from_step": self.resumed_from_step,
            "resume": self.resume,
            "train_seconds": round(self.train_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "train_samples": self.train_samples,
            "train_tokens": self.train_tokens,
            "train_samples_per_second": round(self.train_samples_per_second, 2),
            "train_tokens_per_second": round(self.train_tokens_per_second, 1),
            "device": self.device,
            "precision": self.precision,
            "feature_cache_seconds": round(self.feature_cache_seconds, 3),
            "linear_probe_seconds": round(self.linear_probe_seconds, 3),
            "world_size": self.world_size,
            "peak_memory_mb": round(self.peak_memory_mb, 1),
        }
