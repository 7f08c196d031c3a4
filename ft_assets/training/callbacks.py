"""Progress reporting for a training run, through a plain ``log(str)`` callable (Dagster's logger)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import (
    EarlyStoppingCallback,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)
from transformers.utils import logging as hf_logging

from ft_assets.training.checkpoints import saved_checkpoint, write_manifest
from ft_assets.training.outcome import EVAL_KEYS

# A line at least this often even between logging steps, so a slow run never looks hung in the UI.
HEARTBEAT_SECONDS = 60.0


@dataclass
class TrainCounters:
    """What this process actually trained, filled in by the Trainer and read by the progress log.

    Tokens stay a device tensor so counting them adds no host-device sync per step.
    """

    samples: int = 0
    tokens: torch.Tensor = field(default_factory=lambda: torch.zeros((), dtype=torch.int64))
    overhead_seconds: float = 0.0  # evaluation and checkpoint writing inside trainer.train()

    def add_batch(self, labels: torch.Tensor, attention_mask: torch.Tensor) -> None:
        self.samples += int(labels.shape[0])
        if self.tokens.device != attention_mask.device:
            self.tokens = self.tokens.to(attention_mask.device)
        self.tokens += attention_mask.sum()


class ProgressCallback(TrainerCallback):
    """Logs step/total, epoch, loss, learning rate, throughput and ETA; and each evaluation."""

    def __init__(self, log: Callable[[str], None], counters: TrainCounters) -> None:
        self._log = log
        self._counters = counters
        self._started = 0.0
        self._start_step = 0
        self._last_line = 0.0
        self._last_loss: float | None = None
        self._last_lr: float | None = None

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self._started = self._last_line = time.monotonic()
        # On resume the state is already restored here, so rates count only this run's steps.
        self._start_step = state.global_step
        self._log(
            f"training for {state.max_steps} optimizer steps ({args.num_train_epochs:g} epochs at most), "
            f"effective batch {args.train_batch_size * args.gradient_accumulation_steps}"
        )

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        if not logs or "loss" not in logs:
            return
        self._last_loss = logs["loss"]
        self._last_lr = logs.get("learning_rate")
        self._progress_line(state)

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if time.monotonic() - self._last_line >= HEARTBEAT_SECONDS:
            self._progress_line(state)

    def on_evaluate(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        metrics: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        metrics = metrics or {}
        shown = ", ".join(
            f"{key.removeprefix('eval_')} {metrics[key]:.4f}" for key in EVAL_KEYS if key in metrics
        )
        best = f" (previous best {state.best_metric:.4f})" if state.best_metric is not None else ""
        self._log(f"eval at step {state.global_step}, epoch {state.epoch or 0:.2f}: {shown}{best}")

    def _progress_line(self, state: TrainerState) -> None:
        now = time.monotonic()
        self._last_line = now
        elapsed = now - self._started
        done = state.global_step - self._start_step
        remaining = max(state.max_steps - state.global_step, 0)
        eta = elapsed / done * remaining if done > 0 else float("nan")
        rate = self._counters.samples / elapsed if elapsed > 0 else 0.0
        loss = f"{self._last_loss:.4f}" if self._last_loss is not None else "n/a"
        lr = f"{self._last_lr:.2e}" if self._last_lr is not None else "n/a"
        percent = 100 * state.global_step / max(state.max_steps, 1)
        self._log(
            f"step {state.global_step}/{state.max_steps} ({percent:.0f}%)"
            f", epoch {state.epoch or 0:.2f}, loss {loss}, lr {lr}, {rate:.1f} samples/s"
            f", elapsed {_duration(elapsed)}, left ~{_duration(eta)}"
        )


class EarlyStopping(EarlyStoppingCallback):
    """The Trainer's early stopping, without its warning when the final weights are kept on purpose
    (keep_model=final): the run stops on a stalled validation metric and keeps what it has."""

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if args.load_best_model_at_end:
            super().on_train_begin(args, state, control, **kwargs)


class ChecksumCallback(TrainerCallback):
    """Writes the checksum manifest of each checkpoint once the Trainer has saved it (rank 0 only)."""

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        checkpoint = saved_checkpoint(args, state)
        if checkpoint is not None:
            write_manifest(checkpoint)


@contextmanager
def quiet_progress_bars() -> Iterator[None]:
    """Silence HF's tqdm bars (weight loading, "Writing model shards" per checkpoint) for a block.

    They are global switches, so the previous setting is restored for whoever else uses transformers.
    """
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _duration(seconds: float) -> str:
    if seconds != seconds:  # NaN: no step finished yet
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
