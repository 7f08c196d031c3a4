"""Data-parallel training: torchrun with 2 CPU processes (gloo) against one process on the same data.

Both see every train row once per step: one process in a batch of 42, each of 2 ranks in a batch of 21
(mean of two equal-size means = the mean of all 42). With dropout off, the runs must agree on the losses
they report, the validation metrics and the weights; only rank 0 reports to Dagster.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
import torch

from ft_assets.training import train_classifier
from ft_assets.training.classifier_trainer import EpochSeededLengthGroupedSampler
from ft_resources.training_launcher import ENTRYPOINT_MODULE, TrainingLauncher
from tests.conftest import TINY_LABELS
from tests.training.conftest import CPU, LogCapture, launch, launcher_job, tiny_config, weights

TRAIN_ROWS = 42
EPOCHS = 2


@pytest.fixture(scope="module")
def runs(tiny_dataset, no_dropout_model: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ddp")
    dataset_dir = root / "dataset"
    tiny_dataset.save_to_disk(str(dataset_dir))
    assert len(tiny_dataset["train"]) == TRAIN_ROWS
    # Validation (12 rows) in batches of 5 per rank: rank 0 gets rows 0-4 and 10-11, rank 1 rows 5-9 and
    # a last batch padded with repeated rows. Per-batch means would count those rows (1 % off here).
    ddp_job = launcher_job(
        root / "ddp", dataset_dir, no_dropout_model,
        epochs=EPOCHS, batch_size=TRAIN_ROWS // 2, eval_batch_size=5,
    )  # fmt: skip
    ddp, lines = launch(ddp_job, TrainingLauncher(mode="torchrun", nproc_per_node=2))
    single = train_classifier(
        tiny_dataset, TINY_LABELS, no_dropout_model, tiny_config(epochs=EPOCHS, batch_size=TRAIN_ROWS), CPU,
        root / "single" / "model", root / "single" / "checkpoints", LogCapture(),
    )  # fmt: skip
    return ddp, lines, Path(ddp_job.output_dir), single


def test_two_ranks_ran_and_ended_with_identical_parameters(runs):
    ddp, _, _, _ = runs
    assert ddp["world_size"] == 2
    assert ddp["ranks_in_sync"] is True
    assert ddp["outcome"]["summary"]["world_size"] == 2


def test_reported_losses_equal_the_single_process_losses(runs):
    ddp, _, _, single = runs
    history = ddp["outcome"]["log_history"]
    train = [entry["loss"] for entry in history if "loss" in entry]
    evals = [entry["eval_loss"] for entry in history if "eval_loss" in entry]
    assert len(train) == EPOCHS and len(evals) == EPOCHS
    # Trainer.compute_loss multiplies the loss by the world size when average_tokens_across_devices is
    # on (2x on 2 ranks); ClassifierTrainer owns compute_loss and the arguments turn it off, so this
    # fails if either guard goes.
    assert train == pytest.approx([loss["loss"] for loss in single.train_losses], rel=1e-3)
    assert evals == pytest.approx([e["eval_loss"] for e in single.evaluations], rel=1e-4)


def test_the_model_equals_the_single_process_model(runs):
    ddp, _, ddp_model, single = runs
    ddp_weights, single_weights = weights(ddp_model), weights(single.model_dir)
    assert ddp_weights.keys() == single_weights.keys()
    worst = max(float((ddp_weights[n] - single_weights[n]).abs().max()) for n in ddp_weights)
    # Two epochs of gloo all-reduce against one process's sums differ by float rounding only (1e-5).
    assert worst < 5e-5, worst
    assert [e["eval_accuracy"] for e in ddp["outcome"]["evaluations"]] == [
        e["eval_accuracy"] for e in single.evaluations
    ]


def test_only_rank_zero_reports(runs):
    _, lines, _, _ = runs
    assert len([line for line in lines if line.startswith("done: step")]) == 1
    assert len([line for line in lines if line.startswith("eval at step")]) == EPOCHS


def test_ranks_follow_one_time_budget_plan(tiny_dataset, no_dropout_model: Path, tmp_path: Path):
    """A budget spent by the first step: rank 1 plans with rank 0's seconds (a broadcast after every
    step), so both ranks end at step 1 together instead of one waiting for the other."""
    dataset_dir = tmp_path / "dataset"
    tiny_dataset.save_to_disk(str(dataset_dir))
    job = launcher_job(
        tmp_path, dataset_dir, no_dropout_model, epochs=EPOCHS, batch_size=TRAIN_ROWS // 2, eval_batch_size=5
    )
    job = job.model_copy(update={"config": {**job.config, "epochs": 3, "max_train_seconds": 1e-6}})
    ddp, _ = launch(job, TrainingLauncher(mode="torchrun", nproc_per_node=2))
    assert ddp["world_size"] == 2 and ddp["ranks_in_sync"] is True
    assert ddp["outcome"]["summary"]["global_step"] == 1


def test_every_epoch_the_ranks_together_train_on_every_row(tiny_dataset, tiny_model_dir, tmp_path: Path):
    """With dropout on, each rank's global RNG drifts from the other's (its batches' shapes decide how many
    draws dropout makes), so a sampler shuffling from it gives the ranks different orders from epoch 2 on:
    some rows trained twice in an epoch, others never. The rows each rank trained on are recorded."""
    dataset_dir = tmp_path / "dataset"
    tiny_dataset.save_to_disk(str(dataset_dir))
    batch_size, epochs = 4, 3
    job = launcher_job(
        tmp_path, dataset_dir, tiny_model_dir, epochs=epochs, batch_size=batch_size, eval_batch_size=16
    )
    launcher = TrainingLauncher(mode="torchrun", nproc_per_node=2)
    command = launcher.command(job)
    command[command.index(ENTRYPOINT_MODULE)] = "tests.training.ddp_rows"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DAGSTER_PIPES")}
    finished = subprocess.run(
        [*command, "--rows", str(tmp_path / "rows")],
        env={**env, **launcher.process_env()},
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    ranks = [json.loads((tmp_path / "rows" / f"rows-rank{rank}.json").read_text()) for rank in (0, 1)]
    for epoch in range(epochs):
        rows = [rank[str(epoch)] for rank in ranks]
        assert set(rows[0]) | set(rows[1]) == set(range(TRAIN_ROWS)), f"epoch {epoch + 1}"
        # Beyond the split, only accelerate's padding of the last batches to one size on every rank.
        assert len(rows[0]) + len(rows[1]) - TRAIN_ROWS < 2 * batch_size, f"epoch {epoch + 1}"
    assert ranks[0]["0"] != ranks[0]["1"]  # each epoch is shuffled anew


def test_the_train_order_is_a_function_of_the_seed_and_the_epoch_alone():
    lengths = [5 + row % 9 for row in range(TRAIN_ROWS)]
    sampler = EpochSeededLengthGroupedSampler(4, lengths=lengths, seed=7)

    def order(epoch: int, global_seed: int) -> list[int]:
        torch.manual_seed(global_seed)  # what dropout leaves in the global RNG differs per rank and run
        sampler.set_epoch(epoch)
        return list(sampler)

    first = order(1, global_seed=0)
    assert sorted(first) == list(range(TRAIN_ROWS))
    assert order(1, global_seed=1) == first
    assert order(2, global_seed=0) != first
    sampler.seed = 8
    assert order(1, global_seed=0) != first
