"""A training process killed with SIGKILL (no Python cleanup, no exception) resumes from its checkpoints.

test_resume.py stops a run from inside with an exception; here the entry point runs as the subprocess
launcher starts it and the operating system kills it, as an OOM killer or a lost node would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ft_assets.training.checkpoints import MANIFEST_FILE
from ft_assets.training.job import TrainJob
from ft_resources.training_launcher import TrainingLauncher
from tests.conftest import TINY_LABELS
from tests.training.conftest import STEPS_PER_EPOCH, tiny_config

EPOCHS = 10  # long enough that the kill lands mid-run; tiny steps take milliseconds


def _complete_checkpoints(folder: Path) -> list[Path]:
    # The manifest is written last: before it, a checkpoint is incomplete and resume refuses it.
    return sorted(folder.glob(f"checkpoint-*/{MANIFEST_FILE}")) if folder.is_dir() else []


@pytest.fixture
def start_entrypoint() -> Iterator[Callable[[TrainJob, Path], subprocess.Popen[bytes]]]:
    """Starts the entry point with the subprocess launcher's command; kills what a failed test left."""
    started: list[subprocess.Popen[bytes]] = []

    def start(job: TrainJob, outcome: Path) -> subprocess.Popen[bytes]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("DAGSTER_PIPES")}
        # A file, not a pipe: an unread pipe that fills up would stall the process before its checkpoint.
        with outcome.with_suffix(".log").open("wb") as log:
            process = subprocess.Popen(
                [*TrainingLauncher(mode="subprocess").command(job), "--outcome", str(outcome)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)


def test_a_killed_training_process_resumes_where_its_checkpoints_end(
    tiny_dataset, tiny_model_dir, tmp_path, start_entrypoint
):
    tiny_dataset.save_to_disk(str(tmp_path / "dataset"))
    job = TrainJob(
        dataset_path=str(tmp_path / "dataset"),
        label_names=TINY_LABELS,
        base_model=str(tiny_model_dir),
        config=tiny_config(epochs=EPOCHS).model_dump(),
        accelerator={"device": "cpu", "precision": "fp32"},
        output_dir=str(tmp_path / "model"),
        checkpoint_dir=str(tmp_path / "checkpoints"),
    )
    first = start_entrypoint(job, tmp_path / "first.json")
    deadline = time.monotonic() + 120
    while not _complete_checkpoints(tmp_path / "checkpoints"):
        assert first.poll() is None, (tmp_path / "first.log").read_text()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=60) == -signal.SIGKILL
    assert not (tmp_path / "first.json").exists()
    assert not (tmp_path / "model").exists()  # no half-written model folder is left for export to find

    second = start_entrypoint(job, tmp_path / "second.json")
    assert second.wait(timeout=300) == 0, (tmp_path / "second.log").read_text()[-2000:]
    summary = json.loads((tmp_path / "second.json").read_text())["summary"]
    resumed = summary["resumed_from_step"]
    assert "resuming from checkpoint" in (tmp_path / "second.log").read_text()
    # Whichever checkpoint the kill left complete; one being written at the kill is skipped.
    assert resumed is not None and resumed >= STEPS_PER_EPOCH and resumed % STEPS_PER_EPOCH == 0
    assert summary["global_step"] == EPOCHS * STEPS_PER_EPOCH
    assert summary["train_samples"] == (EPOCHS * STEPS_PER_EPOCH - resumed) // STEPS_PER_EPOCH * len(
        tiny_dataset["train"]
    )
    assert (tmp_path / "model" / "model.safetensors").is_file()
