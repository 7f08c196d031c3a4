"""Training throughput on SST-2 sentences, MiniLM, batch 32, lr 1e-4:

- padded_128: the tutorial recipe, every batch padded to max_length=128 (every step costs the same, so
  `--padded-steps` steps measure its rate);
- bare_trainer_grouped: a bare HF Trainer with dynamic padding grouped by length, one full epoch;
- pipeline: this project's train_classifier, one full epoch (its train_seconds exclude the epoch-end
  evaluation and checkpoint, which the bare variant does not do).

Length-grouped batches differ in cost, so those two run a whole epoch: the first steps are not a sample.

Targets: pipeline >= 6x padded_128 and >= 0.95x bare_trainer_grouped.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import torch
from ft_serving.spec import MODEL_INPUTS
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainingArguments,
    set_seed,
)

from benchmarks.common import minilm_path, write_result
from benchmarks.sst2_data import LABELS, sst2_dataset
from ft_assets.training.config import TrainConfig
from ft_assets.training.trainer import train_classifier
from ft_resources.accelerator import AcceleratorResource

COLUMNS = [*MODEL_INPUTS, "labels"]


def bare_trainer(train, steps: int, padded: bool, out: Path) -> tuple[float, int]:
    set_seed(42)
    model = AutoModelForSequenceClassification.from_pretrained(
        minilm_path(), num_labels=2, use_safetensors=True
    )
    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    if padded:
        train = train.map(lambda b: tokenizer.pad(b, padding="max_length", max_length=128), batched=True)
    args = TrainingArguments(
        output_dir=str(out),
        max_steps=steps,
        num_train_epochs=1,
        per_device_train_batch_size=32,
        learning_rate=1e-4,
        warmup_steps=0.06,
        weight_decay=0.01,
        save_strategy="no",
        eval_strategy="no",
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        seed=42,
        data_seed=42,
        logging_steps=1000,
        train_sampling_strategy="random" if padded else "group_by_length",
    )
    trainer = Trainer(
        model=model, args=args, train_dataset=train, data_collator=DataCollatorWithPadding(tokenizer)
    )
    started = time.perf_counter()
    trainer.train()
    return time.perf_counter() - started, trainer.state.global_step * 32


def pipeline(dataset, out: Path) -> tuple[float, int]:
    config = TrainConfig(epochs=1, learning_rate=1e-4, batch_size=32, early_stopping_patience=0)
    outcome = train_classifier(
        dataset,
        LABELS,
        minilm_path(),
        config,
        AcceleratorResource(device="cpu").resolve(),
        output_dir=out / "model",
        checkpoint_dir=out / "ckpt",
        log=lambda _: None,
    )
    return outcome.train_seconds, outcome.train_samples


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=6000)
    parser.add_argument("--padded-steps", type=int, default=30)
    args = parser.parse_args(argv)
    dataset = sst2_dataset(args.sentences)
    train = dataset["train"].select_columns([c for c in COLUMNS if c in dataset["train"].column_names])
    out = Path(tempfile.mkdtemp(prefix="bench-train-"))
    try:
        runs = {
            "padded_128": bare_trainer(train, args.padded_steps, True, out / "a"),
            "bare_trainer_grouped": bare_trainer(train, -1, False, out / "b"),
            "pipeline": pipeline(dataset, out / "c"),
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)
    seconds = {name: s for name, (s, _) in runs.items()}
    rate = {name: n / s for name, (s, n) in runs.items()}
    return write_result(
        "training_speed",
        {
            "sentences": args.sentences,
            "train_rows": len(train),
            "samples": {name: n for name, (_, n) in runs.items()},
            "batch_size": 32,
            "threads": torch.get_num_threads(),
            "seconds": {k: round(v, 2) for k, v in seconds.items()},
            "samples_per_second": {k: round(v, 2) for k, v in rate.items()},
            "pipeline_vs_padded_128": round(rate["pipeline"] / rate["padded_128"], 2),
            "pipeline_vs_bare_trainer_grouped": round(rate["pipeline"] / rate["bare_trainer_grouped"], 3),
            "targets": {"pipeline_vs_padded_128": 6.0, "pipeline_vs_bare_trainer_grouped": 0.95},
        },
    )


if __name__ == "__main__":
    main()
