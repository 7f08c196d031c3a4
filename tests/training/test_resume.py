"""Resuming an interrupted run from its last checkpoint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from transformers import TrainerCallback

from ft_assets.training import TrainOutcome, budget, train_classifier
from tests.conftest import TINY_LABELS
from tests.training.conftest import CPU, STEPS_PER_EPOCH, LogCapture, StepClock, tiny_config, weights


class SimulatedKillError(Exception):
    pass


class _KillAfterFirstCheckpoint(TrainerCallback):
    """Raises right after the first checkpoint is on disk, as a killed worker would stop."""

    def on_save(self, args, state, control, **kwargs):
        raise SimulatedKillError(f"killed after saving step {state.global_step}")


def test_rerun_resumes_from_the_checkpoint_and_matches_an_uninterrupted_run(
    baseline_run, tiny_dataset, tiny_model_dir, tmp_path
):
    output_dir, checkpoint_dir = tmp_path / "model", tmp_path / "checkpoints"
    config = tiny_config()  # the baseline run's config
    first_log = LogCapture()
    with pytest.raises(SimulatedKillError):
        train_classifier(
            tiny_dataset, TINY_LABELS, tiny_model_dir, config, CPU, output_dir, checkpoint_dir, first_log,
            callbacks=[_KillAfterFirstCheckpoint()],
        )  # fmt: skip
    assert not output_dir.exists()
    assert (checkpoint_dir / f"checkpoint-{STEPS_PER_EPOCH}" / "trainer_state.json").is_file()
    assert not first_log.matching("resuming")

    log = LogCapture()
    outcome = train_classifier(
        tiny_dataset, TINY_LABELS, tiny_model_dir, config, CPU, output_dir, checkpoint_dir, log
    )
    assert log.matching(f"resuming from checkpoint checkpoint-{STEPS_PER_EPOCH} at step {STEPS_PER_EPOCH}")
    assert outcome.resumed_from_step == STEPS_PER_EPOCH
    assert outcome.global_step == 3 * STEPS_PER_EPOCH
    # Only the two remaining epochs were trained in this call, and progress picked up after step 6.
    assert outcome.train_samples == 2 * len(tiny_dataset["train"])
    progress = [line for line in log.lines if re.match(r"step \d+/18 ", line)]
    assert progress[0].startswith(f"step {STEPS_PER_EPOCH + 2}/18 ")
    # History from before the interruption is kept: all three epochs were evaluated once.
    assert [e["epoch"] for e in outcome.evaluations] == [1.0, 2.0, 3.0]
    resumed, uninterrupted = weights(outcome.model_dir), weights(baseline_run.outcome.model_dir)
    assert all(torch.equal(resumed[name], uninterrupted[name]) for name in resumed)


class _KillAtStep(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise SimulatedKillError(f"killed after saving step {state.global_step}")


def test_a_damaged_newest_checkpoint_is_skipped_for_the_one_before(tiny_dataset, tiny_model_dir, tmp_path):
    output_dir, checkpoint_dir = tmp_path / "model", tmp_path / "checkpoints"
    with pytest.raises(SimulatedKillError):
        train_classifier(
            tiny_dataset, TINY_LABELS, tiny_model_dir, tiny_config(), CPU, output_dir, checkpoint_dir,
            LogCapture(), callbacks=[_KillAtStep(2 * STEPS_PER_EPOCH)],
        )  # fmt: skip
    weights_file = checkpoint_dir / f"checkpoint-{2 * STEPS_PER_EPOCH}" / "model.safetensors"
    data = bytearray(weights_file.read_bytes())
    data[-3] ^= 0x10  # a flipped bit inside a tensor: the file still parses
    weights_file.write_bytes(bytes(data))

    log = LogCapture()
    outcome = train_classifier(
        tiny_dataset, TINY_LABELS, tiny_model_dir, tiny_config(), CPU, output_dir, checkpoint_dir, log
    )
    expected = (
        f"checkpoint-{2 * STEPS_PER_EPOCH} is unusable (model.safetensors: checksum mismatch); "
        f"resuming from checkpoint checkpoint-{STEPS_PER_EPOCH} at step {STEPS_PER_EPOCH}"
    )
    assert log.matching(expected) and outcome.resume == expected
    assert outcome.resumed_from_step == STEPS_PER_EPOCH
    assert outcome.global_step == 3 * STEPS_PER_EPOCH
    assert outcome.train_samples == 2 * len(tiny_dataset["train"])  # epochs 2 and 3 trained again


class _CrashAfterTraining(TrainerCallback):
    """Raises once training has ended, its last checkpoint on disk: as a crash while loading the best model,
    saving the model folder, reporting or publishing would, which the asset answers with a retry."""

    def on_train_end(self, args, state, control, **kwargs):
        raise SimulatedKillError(f"crashed after training ended at step {state.global_step}")


@pytest.mark.parametrize(
    ("overrides", "stop_step"),
    [
        # A stalling validation metric with patience 1 stops the run well before its 10 epochs.
        ({"epochs": 10, "early_stopping_patience": 1, "keep_model": "best"}, None),
        ({"epochs": 10, "early_stopping_patience": 1, "keep_model": "final"}, None),
        # max_steps and the time budget stop mid-epoch (6 steps an epoch).
        ({"max_steps": 8}, 8),
        ({"max_train_seconds": 10.0}, 10),
        ({"keep_model": "best"}, 3 * STEPS_PER_EPOCH),
    ],
    ids=["early-stopped-best", "early-stopped-final", "max-steps", "time-budget", "all-epochs"],
)
def test_resuming_a_run_that_had_stopped_trains_no_further(
    overrides: dict[str, object],
    stop_step: int | None,
    tiny_dataset,
    tiny_model_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tiny_config(**overrides)

    def train(root: Path, log: LogCapture, *callbacks: TrainerCallback) -> TrainOutcome:
        monkeypatch.setattr(budget, "clock", StepClock())
        return train_classifier(
            tiny_dataset, TINY_LABELS, tiny_model_dir, config, CPU, root / "model", root / "checkpoints", log,
            callbacks=list(callbacks),
        )  # fmt: skip

    uninterrupted = train(tmp_path / "uninterrupted", LogCapture())
    if stop_step is None:
        assert uninterrupted.global_step < 10 * STEPS_PER_EPOCH  # early stopping did stop it
    else:
        assert uninterrupted.global_step == stop_step
    with pytest.raises(SimulatedKillError):
        train(tmp_path / "retried", LogCapture(), _CrashAfterTraining())

    log = LogCapture()
    retried = train(tmp_path / "retried", log)
    assert retried.resumed_from_step == uninterrupted.global_step
    assert retried.global_step == uninterrupted.global_step
    assert retried.train_samples == 0
    assert (retried.kept_step, retried.best_step) == (uninterrupted.kept_step, uninterrupted.best_step)
    assert retried.evaluations == uninterrupted.evaluations
    resumed, expected = weights(retried.model_dir), weights(uninterrupted.model_dir)
    assert resumed.keys() == expected.keys()
    assert all(torch.equal(resumed[name], expected[name]) for name in resumed)
    assert log.matching("training had stopped there")
