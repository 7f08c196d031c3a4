"""Fixtures for the training tests: a tiny tokenized 3-class dataset, fast configs, one shared run."""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import torch
from safetensors.torch import load_file

from ft_assets.training import TrainConfig, TrainOutcome, train_classifier
from ft_assets.training.job import TrainJob
from ft_resources.accelerator import DeviceSettings
from ft_resources.training_launcher import TrainingLauncher
from tests.conftest import TINY_LABELS, TINY_MODEL_TRAINING

MAX_LENGTH = 32
SUBJECTS = {
    "billing": ["my invoice", "the refund", "this charge", "my card payment", "the subscription fee"],
    "shipping": ["my parcel", "the delivery", "the courier", "my package", "the shipment"],
    "technical": ["the app", "the login page", "the website", "my password reset", "the mobile client"],
}
PREDICATES = {
    "billing": ["was billed twice", "shows a wrong amount", "has not been credited", "was declined"],
    "shipping": ["has not arrived", "went to the wrong address", "is lost in transit", "came late"],
    "technical": ["crashes on start", "shows an error", "does not load", "times out"],
}
# Per class: 14 train, 4 validation, 2 test (60 texts). 42 train rows / batch 8 = 6 steps an epoch.
SPLIT_SIZES = {"train": 14, "validation": 4, "test": 2}
STEPS_PER_EPOCH = 6
CPU = DeviceSettings(
    device="cpu", precision="fp32", num_threads=torch.get_num_threads(), device_name="test CPU"
)


def synthetic_texts() -> dict[str, list[tuple[str, int]]]:
    """Deterministic (text, label id) pairs per split, balanced over TINY_LABELS."""
    splits: dict[str, list[tuple[str, int]]] = {name: [] for name in SPLIT_SIZES}
    for label_id, label in enumerate(TINY_LABELS):
        pairs = itertools.product(SUBJECTS[label], PREDICATES[label])
        # Varying suffixes give varying lengths, so length grouping and dynamic padding matter.
        texts = [
            f"{subject} {predicate}" + " please help" * (i % 3)
            for i, (subject, predicate) in enumerate(pairs)
        ]
        start = 0
        for split, size in SPLIT_SIZES.items():
            splits[split].extend((text, label_id) for text in texts[start : start + size])
            start += size
    return splits


def tiny_config(**overrides: object) -> TrainConfig:
    values: dict[str, object] = {
        "epochs": 3,
        "learning_rate": 1e-2,  # a random 32-wide BERT needs a high rate to move within a few epochs
        "batch_size": 8,
        "eval_batch_size": 16,
        "warmup_ratio": 0.0,
        "weight_decay": 0.0,
        "early_stopping_patience": 0,
        "seed": 7,
        **TINY_MODEL_TRAINING,
    }
    values.update(overrides)
    return TrainConfig(**values)


def weights(model_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(model_dir / "model.safetensors"))


class LogCapture:
    """A ``log`` callable that keeps the lines for assertions."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    def matching(self, fragment: str) -> list[str]:
        return [line for line in self.lines if fragment in line]


class StepClock:
    """A stand-in for budget.clock: each reading is one second after the previous one, so every step costs
    one second of budget and a time budget ends a run at the same step every time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@dataclass(frozen=True)
class Run:
    outcome: TrainOutcome
    log: LogCapture
    output_dir: Path
    checkpoint_dir: Path


@pytest.fixture(scope="package", autouse=True)
def single_torch_thread() -> Iterator[None]:
    """One intra-op thread: a 32-wide model gains nothing from more, and on a shared 2-core box
    spinning OpenMP workers made each run 3-8x slower. Restored for the tests outside this package."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def tiny_dataset(tiny_model_dir: Path):  # -> datasets.DatasetDict
    import datasets
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    parts = {}
    for split, pairs in synthetic_texts().items():
        texts = [text for text, _ in pairs]
        encoded = tokenizer(texts, truncation=True, max_length=MAX_LENGTH)
        parts[split] = datasets.Dataset.from_dict(
            {
                **{key: list(values) for key, values in encoded.items()},
                "labels": [label for _, label in pairs],
                # Extra columns as the tokenized_dataset asset writes them; training must ignore them.
                "length": [len(ids) for ids in encoded["input_ids"]],
                "text": texts,
            }
        )
    return datasets.DatasetDict(parts)


# Package scope, below single_torch_thread: a session fixture would be set up before it, train with every
# thread and round differently from the one-thread runs it is compared with (when its test runs first).
@pytest.fixture(scope="package")
def baseline_run(
    single_torch_thread: None, tiny_dataset, tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Run:
    """One uninterrupted 3-epoch run that several tests inspect (training is the slow part)."""
    root = tmp_path_factory.mktemp("baseline")
    log = LogCapture()
    outcome = train_classifier(
        tiny_dataset,
        TINY_LABELS,
        tiny_model_dir,
        tiny_config(),
        CPU,
        root / "model",
        root / "checkpoints",
        log,
    )
    return Run(outcome, log, root / "model", root / "checkpoints")


@pytest.fixture(scope="session")
def no_dropout_model(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT without dropout, for runs that must agree with each other: dropout draws differ per
    rank and per device, so they would make two runs differ by chance alone."""
    target = tmp_path_factory.mktemp("tiny-no-dropout") / "model"
    shutil.copytree(tiny_model_dir, target)
    config = json.loads((target / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (target / "config.json").write_text(json.dumps(config))
    return target


def launcher_job(
    root: Path,
    dataset_dir: Path,
    model: Path,
    *,
    epochs: int,
    batch_size: int,
    eval_batch_size: int,
    accelerator: dict[str, str] | None = None,
) -> TrainJob:
    """A TrainJob of the tiny settings; by default on CPU in fp32, the numerics of ``CPU``."""
    return TrainJob(
        dataset_path=str(dataset_dir),
        label_names=TINY_LABELS,
        base_model=str(model),
        config=tiny_config(
            epochs=epochs, batch_size=batch_size, eval_batch_size=eval_batch_size
        ).model_dump(),
        accelerator=accelerator or {"device": "cpu", "precision": CPU.precision},
        output_dir=str(root / "model"),
        checkpoint_dir=str(root / "checkpoints"),
    )


def launch(job: TrainJob, launcher: TrainingLauncher) -> tuple[dict[str, Any], list[str]]:
    """Materialize an asset that launches ``job``; return its metadata and the run's log lines."""

    # Unannotated context: this module's postponed annotations would hand dagster a string it rejects.
    @dg.asset
    def trained(context, training_launcher: TrainingLauncher) -> dg.MaterializeResult:
        invocation = training_launcher.run(context, job)
        [outcome] = invocation.get_custom_messages()
        result = invocation.get_materialize_result()
        return dg.MaterializeResult(metadata={**result.metadata, "outcome": dg.MetadataValue.json(outcome)})

    with dg.instance_for_test() as instance:
        result = dg.materialize([trained], instance=instance, resources={"training_launcher": launcher})
        assert result.success
        [event] = result.asset_materializations_for_node("trained")
        lines = [record.user_message for record in instance.all_logs(result.run_id)]
    return {name: value.value for name, value in event.metadata.items()}, lines
