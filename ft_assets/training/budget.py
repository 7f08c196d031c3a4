"""A training-time budget: the run plans its number of steps so that it ends within the budget, with the
learning rate decayed to zero at that end instead of cut off mid-schedule.

The steps a budget allows depend on the machine, the load and the data's lengths, so they are not known
before training. ``TimeBudget`` measures the seconds spent inside training steps (evaluation and checkpoint
writing excluded, as in the run's ``train_seconds``) and, after every step, re-plans the last step as
``steps so far + remaining seconds / seconds per step so far``, never beyond what ``epochs`` or
``max_steps`` allow. ``PlannedLinearSchedule`` reads that plan, so warm-up and decay always span the
planned run. The plan is also the Trainer's ``max_steps``, so it stops there, evaluates and saves.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from ft_serving import local_writes
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from ft_assets.training.checkpoints import saved_checkpoint

# Saved in each checkpoint (before its checksum manifest), so a resumed run knows what it already spent.
STATE_FILE = "time_budget.json"
# The first plan waits for this share of the steps (at least MIN_STEPS_BEFORE_PLAN): the first batches
# (with length grouping, the longest batch comes first) are no fair sample of the pace. A budget already
# spent plans at once.
SHARE_BEFORE_PLAN = 0.02
MIN_STEPS_BEFORE_PLAN = 5
clock: Callable[[], float] = time.perf_counter


class PlannedLinearSchedule:
    """The linear warm-up and decay of the Trainer's default schedule, over ``total`` steps that the
    budget may change while training. A callable object, so LambdaLR saves its attributes with the
    scheduler and a resumed run continues the same plan."""

    def __init__(self, warmup_ratio: float, total: int) -> None:
        self.warmup_ratio = warmup_ratio
        self.total = total
        self.warmup = math.ceil(warmup_ratio * total)

    def replan(self, total: int, step: int) -> None:
        """End at ``total``. A warm-up still running is resized to the new plan; a finished one stays
        finished, so the rate never climbs a second time."""
        self.total = total
        if step < self.warmup:
            self.warmup = max(step, math.ceil(self.warmup_ratio * total))

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return step / self.warmup
        return max(0.0, (self.total - step) / max(1, self.total - self.warmup))


def planned_scheduler(
    optimizer: torch.optim.Optimizer, warmup_ratio: float, total: int
) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, PlannedLinearSchedule(warmup_ratio, total))


class TimeBudget(TrainerCallback):
    """Re-plans the run's last step after every step so that training ends within ``seconds``."""

    def __init__(self, seconds: float, log: Callable[[str], None], resumed_from: Path | None = None) -> None:
        self.seconds = seconds
        self._log = log
        self.spent = _read_spent(resumed_from) if resumed_from is not None else 0.0
        self._mark: float | None = None
        self._upper = 0
        self._steps_at_start = 0
        self._spent_at_start = self.spent
        self._reported = False

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        schedule = _schedule(kwargs.get("lr_scheduler"))
        self._upper = state.max_steps
        self._steps_at_start = state.global_step
        if schedule.total < state.max_steps:  # a resumed run continues its plan
            state.max_steps = schedule.total
        self._log(
            f"time budget: {self.seconds:g} s of training ({self.spent:.1f} s spent before this run); "
            f"at most {self._upper:,} steps"
        )

    def on_epoch_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        # Evaluation and checkpoints run between the last step of an epoch and here: not training time.
        self._mark = clock()

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        now = clock()
        if self._mark is not None:
            self.spent += now - self._mark
        self._mark = now
        # Every decision below reads only the step and this: the same on every rank.
        self.spent = _rank_zeros(self.spent)
        steps = state.global_step - self._steps_at_start
        wait = max(MIN_STEPS_BEFORE_PLAN, math.ceil(SHARE_BEFORE_PLAN * self._upper))
        if steps < wait and self.spent < self.seconds:
            return
        pace = (self.spent - self._spent_at_start) / max(steps, 1)
        affordable = (
            state.global_step + int(max(self.seconds - self.spent, 0.0) / pace) if pace > 0 else self._upper
        )
        total = min(self._upper, max(affordable, state.global_step))
        _schedule(kwargs.get("lr_scheduler")).replan(total, state.global_step)
        state.max_steps = total
        if state.global_step >= total:
            control.should_training_stop = True
        if total < self._upper and not self._reported:
            self._reported = True
            self._log(
                f"time budget: at {pace:.3f} s a step so far, the run ends near step {total:,} of "
                f"{self._upper:,} (re-planned after every step; the learning rate decays to zero there)"
            )

    def on_epoch_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self._reported:
            self._log(
                f"time budget: {self.spent:.1f} of {self.seconds:g} s spent at step {state.global_step:,}; "
                f"the run ends at step {state.max_steps:,}"
            )

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        checkpoint = saved_checkpoint(args, state)
        if checkpoint is not None:
            local_writes.write_bytes(
                checkpoint / STATE_FILE, json.dumps({"spent_seconds": self.spent}).encode()
            )


def _schedule(scheduler: object) -> PlannedLinearSchedule:
    lambdas = getattr(scheduler, "lr_lambdas", None)
    if not lambdas or not isinstance(lambdas[0], PlannedLinearSchedule):
        raise TypeError("a time budget needs the PlannedLinearSchedule learning-rate schedule")
    return lambdas[0]


def _rank_zeros(spent: float) -> float:
    """Rank 0's seconds on every rank. Each rank times itself, so near the end of the budget one rank could
    plan to stop (or to start planning) a step before another, which would then wait for it forever."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return spent
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else None
    value = torch.tensor([spent], dtype=torch.float64, device=device)
    dist.broadcast(value, src=0)
    return float(value.item())


def _read_spent(checkpoint: Path) -> float:
    path = checkpoint / STATE_FILE
    if not path.is_file():
        return 0.0
    return float(json.loads(path.read_text())["spent_seconds"])
