"""Trainer subclass: our own cross-entropy (optionally class-weighted), precomputed lengths, timing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional torch alias
from torch.utils.data import Sampler
from transformers import EvalPrediction, Trainer
from transformers.trainer_pt_utils import LengthGroupedSampler

from ft_assets.training.budget import planned_scheduler
from ft_assets.training.callbacks import TrainCounters


class EpochSeededLengthGroupedSampler(LengthGroupedSampler):
    """The Trainer's length-grouped order, drawn from ``seed + epoch`` instead of the global RNG.

    Under DDP every rank builds this sampler and accelerate hands each rank its share of the batches, so
    the ranks must draw the same order. Dropout consumes the global RNG by an amount that depends on each
    rank's batch shapes, and accelerate synchronises no generator with its seedable-sampler setting, so
    drawing from the global RNG shuffled differently per rank from the second epoch on: rows skipped, others
    seen twice. Seeded by epoch, the order is also the same when a resumed run replays an epoch.
    """

    def __init__(self, batch_size: int, lengths: list[int], seed: int) -> None:
        super().__init__(batch_size, lengths=lengths, generator=torch.Generator())
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by the Trainer (through accelerate's DataLoaderShard) before every epoch."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        self.generator.manual_seed(self.seed + self.epoch)
        return super().__iter__()


class ClassifierTrainer(Trainer):
    """HF Trainer for single-label classification.

    The loss is computed here rather than by the model: BERT's forward accepts ``**kwargs``, so the
    Trainer assumes its loss is already normalised across gradient-accumulation steps when it is a
    plain per-batch mean. Owning the loss fixes that scaling and gives one place for class weights.

    The validation loss is computed once over the gathered logits, not averaged from per-batch means:
    under DDP the short rank's last batch is padded with repeated rows, and their losses would count.
    """

    # Our loss is a per-batch mean; the Trainer divides it by the accumulation steps.
    loss_is_scaled_for_ga = False

    def __init__(
        self,
        *args: Any,
        class_weights: torch.Tensor | None,
        train_lengths: list[int],
        eval_lengths: list[int],
        counters: TrainCounters,
        planned_warmup_ratio: float | None = None,
        resumes_finished_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Set when the checkpoint resumed from is where training had stopped (ResumeDecision.finished).
        self._resumes_finished_run = resumes_finished_run
        # Set under a time budget: the warm-up share of the schedule that follows the budget's plan.
        self._planned_warmup_ratio = planned_warmup_ratio
        self._class_weights = class_weights
        self._train_lengths = train_lengths
        self._eval_lengths = eval_lengths
        self.counters = counters
        if self.compute_metrics is not None:
            scores = self.compute_metrics
            self.compute_metrics = lambda prediction: {
                **scores(prediction),
                "loss": self._eval_loss(prediction),
            }

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        weight = None
        if self._class_weights is not None:
            weight = self._class_weights.to(device=logits.device, dtype=torch.float32)
        # Cross-entropy in fp32 even under autocast: a bf16 log-softmax loses small loss differences.
        return F.cross_entropy(logits.float(), labels, weight=weight)

    def _eval_loss(self, prediction: EvalPrediction) -> float:
        logits = prediction.predictions
        if isinstance(logits, tuple):
            logits = logits[0]
        return float(self._loss(torch.as_tensor(logits), torch.as_tensor(prediction.label_ids)))

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, torch.Tensor | Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        labels = inputs["labels"]
        outputs = model(**{key: value for key, value in inputs.items() if key != "labels"})
        loss = self._loss(outputs["logits"], labels)
        if model.training:
            # Cached-feature batches carry a per-row token count instead of a mask; both sum to the tokens.
            tokens = inputs["attention_mask"] if "attention_mask" in inputs else inputs["token_count"]
            self.counters.add_batch(labels, tokens)
        return (loss, outputs) if return_outputs else loss

    def prediction_step(
        self,
        model: torch.nn.Module,
        inputs: dict[str, torch.Tensor | Any],
        prediction_loss_only: bool,
        ignore_keys: list[str] | None = None,
    ) -> tuple[torch.Tensor | None, Any, Any]:
        loss, logits, labels = super().prediction_step(model, inputs, prediction_loss_only, ignore_keys)
        # With the logits kept, the loss comes from _eval_loss over every row once (see the class doc).
        return (None if logits is not None else loss), logits, labels

    def _get_train_sampler(self, train_dataset: Any = None) -> Sampler | None:
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if self.args.train_sampling_strategy != "group_by_length" or len(dataset) != len(self._train_lengths):
            return super()._get_train_sampler(train_dataset)
        # The Trainer's sampler minus its per-row Python scan for lengths, seeded per epoch (see the class).
        return EpochSeededLengthGroupedSampler(
            self.args.train_batch_size * self.args.gradient_accumulation_steps,
            lengths=self._train_lengths,
            seed=self._data_seed,
        )

    def _get_eval_sampler(self, eval_dataset: Any) -> Sampler | None:
        if self.args.train_sampling_strategy != "group_by_length" or len(eval_dataset) != len(
            self._eval_lengths
        ):
            return super()._get_eval_sampler(eval_dataset)
        return LengthGroupedSampler(
            self.args.eval_batch_size,
            lengths=self._eval_lengths,
            generator=torch.Generator().manual_seed(self._data_seed),
        )

    @property
    def _data_seed(self) -> int:
        return self.args.data_seed if self.args.data_seed is not None else self.args.seed

    def _run_epoch(self, *args: Any, **kwargs: Any) -> None:
        if self._resumes_finished_run:
            # The Trainer clears the checkpoint's should_training_stop when training starts and would train at
            # least one more step (an epoch after early stopping). Training no epoch leaves the run as it
            # stopped: the checkpoint's weights, then the best model loaded at the end as before.
            self.control.should_training_stop = True
            return
        super()._run_epoch(*args, **kwargs)

    def create_scheduler(
        self, num_training_steps: int, optimizer: torch.optim.Optimizer | None = None
    ) -> torch.optim.lr_scheduler.LRScheduler:
        if self._planned_warmup_ratio is None or self.lr_scheduler is not None:
            return super().create_scheduler(num_training_steps, optimizer)
        # A time budget moves the run's end while it trains; this schedule follows it (budget.py).
        self.lr_scheduler = planned_scheduler(
            optimizer or self.optimizer, self._planned_warmup_ratio, num_training_steps
        )
        return self.lr_scheduler

    def evaluate(self, *args: Any, **kwargs: Any) -> dict[str, float]:
        started = time.perf_counter()
        try:
            return super().evaluate(*args, **kwargs)
        finally:
            self.counters.overhead_seconds += time.perf_counter() - started

    def _save_checkpoint(self, model: torch.nn.Module, trial: Any) -> None:
        started = time.perf_counter()
        try:
            super()._save_checkpoint(model, trial)
        finally:
            self.counters.overhead_seconds += time.perf_counter() - started
