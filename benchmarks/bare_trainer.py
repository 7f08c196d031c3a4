"""The reference a user would write without this project: a plain Hugging Face Trainer on MiniLM.

One place for it, so the quality and the speed benchmarks compare the pipeline against the same thing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from datasets import Dataset
from ft_serving.spec import MODEL_INPUTS
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainingArguments,
    set_seed,
)

from benchmarks.common import minilm_path

COLUMNS = [*MODEL_INPUTS, "labels"]
# What a user writes: the Trainer's default precision, on a GPU too (no bf16/fp16 flag below).
PRECISION = "fp32"


@dataclass(frozen=True)
class BareRun:
    trainer: Trainer
    seconds: float
    samples: int


def model_columns(dataset: Dataset) -> Dataset:
    return dataset.select_columns([c for c in COLUMNS if c in dataset.column_names])


def train_bare(
    train: Dataset,
    out: Path,
    *,
    learning_rate: float,
    epochs: float = 1,
    max_steps: int = -1,
    batch_size: int = 32,
    group_by_length: bool = False,
    padded_to: int | None = None,
    num_labels: int = 2,
    device: str = "cpu",
    seed: int = 42,
) -> BareRun:
    """Dynamic padding unless `padded_to`; random batches unless `group_by_length`; no evaluation; PRECISION
    on every device."""
    set_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        minilm_path(), num_labels=num_labels, use_safetensors=True
    )
    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    train = model_columns(train)
    if padded_to:
        train = train.map(
            lambda b: tokenizer.pad(b, padding="max_length", max_length=padded_to), batched=True
        )
    args = TrainingArguments(
        output_dir=str(out),
        max_steps=max_steps,
        num_train_epochs=epochs,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=64,
        learning_rate=learning_rate,
        warmup_steps=0.06,
        weight_decay=0.01,
        save_strategy="no",
        eval_strategy="no",
        report_to=[],
        disable_tqdm=True,
        use_cpu=device == "cpu",
        seed=seed,
        data_seed=seed,
        logging_steps=1000,
        train_sampling_strategy="group_by_length" if group_by_length else "random",
    )
    trainer = Trainer(
        model=model, args=args, train_dataset=train, data_collator=DataCollatorWithPadding(tokenizer)
    )
    started = time.perf_counter()
    trainer.train()
    return BareRun(trainer, time.perf_counter() - started, trainer.state.global_step * batch_size)


def predict_ids(run: BareRun, dataset: Dataset) -> np.ndarray:
    return np.argmax(run.trainer.predict(model_columns(dataset)).predictions, axis=-1)
