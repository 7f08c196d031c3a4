"""max_train_seconds: the run plans its steps to end within the budget, the schedule ending with it."""

from __future__ import annotations

import json

import pytest
from transformers import TrainerCallback

from ft_assets.training import budget, train_classifier
from ft_assets.training.budget import STATE_FILE, PlannedLinearSchedule
from tests.conftest import TINY_LABELS
from tests.training.conftest import CPU, STEPS_PER_EPOCH, LogCapture, StepClock, tiny_config
from tests.training.test_resume import SimulatedKillError, _KillAfterFirstCheckpoint


def test_the_schedule_warms_up_and_decays_to_zero_over_the_planned_steps():
    schedule = PlannedLinearSchedule(warmup_ratio=0.1, total=100)
    assert [schedule(step) for step in (0, 5, 10, 55, 100, 120)] == [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    schedule.replan(45, step=0)  # the budget moved the end: warm-up (5 steps) and decay span the new plan
    assert [schedule(step) for step in (0, 5, 25, 45)] == [0.0, 1.0, 0.5, 0.0]
    schedule.replan(90, step=20)  # past the warm-up: only the decay stretches, the rate never climbs again
    assert [schedule(step) for step in (20, 47.5, 90)] == [pytest.approx(70 / 85), 0.5, 0.0]


class _LastRate(TrainerCallback):
    def __init__(self) -> None:
        self.rate: float | None = None

    def on_train_end(self, args, state, control, lr_scheduler=None, **kwargs):
        self.rate = lr_scheduler.get_last_lr()[0]


def _train(tiny_dataset, tiny_model_dir, tmp_path, log, *callbacks, seconds: float = 10):
    config = tiny_config(max_train_seconds=seconds)  # 3 epochs: 18 steps at most
    return train_classifier(
        tiny_dataset, TINY_LABELS, tiny_model_dir, config, CPU, tmp_path / "m", tmp_path / "ck", log,
        callbacks=list(callbacks),
    )  # fmt: skip


def test_the_run_ends_within_the_budget_with_the_rate_at_zero_and_a_final_evaluation(
    tiny_dataset, tiny_model_dir, tmp_path, monkeypatch
):
    monkeypatch.setattr(budget, "clock", StepClock())
    log, last_rate = LogCapture(), _LastRate()
    outcome = _train(tiny_dataset, tiny_model_dir, tmp_path, log, last_rate)
    # One second a step, 10 s of budget: 10 of the 18 steps, the end evaluated and saved as usual.
    assert outcome.global_step == 10 < 3 * STEPS_PER_EPOCH
    assert [e["step"] for e in outcome.evaluations] == [STEPS_PER_EPOCH, 10]
    assert outcome.kept_step == 10 and (tmp_path / "ck" / "checkpoint-10").is_dir()
    assert last_rate.rate == 0.0
    assert log.matching("the run ends near step 10 of 18")
    assert log.matching("time budget: 6.0 of 10 s spent at step 6; the run ends at step 10")


def test_a_budget_the_epochs_fit_in_changes_nothing(tiny_dataset, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(budget, "clock", StepClock())
    log, last_rate = LogCapture(), _LastRate()
    outcome = _train(tiny_dataset, tiny_model_dir, tmp_path, log, last_rate, seconds=1000)
    assert outcome.global_step == 3 * STEPS_PER_EPOCH and last_rate.rate == 0.0
    assert not log.matching("the run ends at step")


def test_a_resumed_run_counts_what_was_spent_before_it(tiny_dataset, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(budget, "clock", StepClock())
    with pytest.raises(SimulatedKillError):
        _train(tiny_dataset, tiny_model_dir, tmp_path, LogCapture(), _KillAfterFirstCheckpoint())
    saved = json.loads((tmp_path / "ck" / f"checkpoint-{STEPS_PER_EPOCH}" / STATE_FILE).read_text())
    assert saved == {"spent_seconds": float(STEPS_PER_EPOCH)}
    log = LogCapture()
    outcome = _train(tiny_dataset, tiny_model_dir, tmp_path, log)
    assert outcome.resumed_from_step == STEPS_PER_EPOCH
    assert log.matching(f"({STEPS_PER_EPOCH}.0 s spent before this run)")
    assert outcome.global_step == 10  # the plan made before the interruption, kept with the schedule
