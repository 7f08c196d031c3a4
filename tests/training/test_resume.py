"""Resuming an interrupted run from its last checkpoint."""

from __future__ import annotations

import re

import pytest
import torch
from transformers import TrainerCallback

from ft_assets.training import train_classifier
from tests.conftest import TINY_LABELS
from tests.training.conftest import CPU, STEPS_PER_EPOCH, LogCapture, tiny_config, weights


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
