"""Training throughput on SST-2 sentences, MiniLM, batch 32, lr 1e-4:

- padded_128: the tutorial recipe, every batch padded to max_length=128 (every step costs the same, so
  `--padded-steps` steps measure its rate);
- bare_trainer_grouped: a bare HF Trainer with dynamic padding grouped by length, one full epoch;
- pipeline: this project's train_classifier with its defaults (bf16 autocast where the CPU computes bf16
  natively, the mean-pooled head for MiniLM), one full epoch (its train_seconds exclude the epoch-end
  evaluation and checkpoint, which the bare variant does not do).

Both length-grouped runs use the same batches (batch 32, grouped by length, dynamic padding), and differ in
cost per batch, so each runs a whole epoch: the first steps are not a sample.

Targets: pipeline >= 6x padded_128 and >= 1.5x bare_trainer_grouped (issue 14), in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path
from typing import get_args

import torch

from benchmarks.bare_trainer import PRECISION, train_bare
from benchmarks.common import device_suffix, minilm_path, write_result
from benchmarks.sst2_data import LABELS, sst2_dataset
from ft_assets.training.config import TrainConfig
from ft_assets.training.trainer import train_classifier
from ft_resources.accelerator import AcceleratorResource, DeviceRequest, DeviceSettings, PrecisionRequest


def bare_trainer(train, steps: int, padded: bool, out: Path, device: str) -> tuple[float, int]:
    run = train_bare(
        train,
        out,
        learning_rate=1e-4,
        max_steps=steps,
        group_by_length=not padded,
        padded_to=128 if padded else None,
        device=device,
    )
    return run.seconds, run.samples


def pipeline(dataset, out: Path, device: DeviceSettings) -> tuple[float, int]:
    config = TrainConfig(epochs=1, batch_size=32, early_stopping_patience=0)
    outcome = train_classifier(
        dataset,
        LABELS,
        minilm_path(),
        config,
        device,
        output_dir=out / "model",
        checkpoint_dir=out / "ckpt",
        log=lambda _: None,
    )
    return outcome.train_seconds, outcome.train_samples


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=6000)
    parser.add_argument("--padded-steps", type=int, default=30)
    parser.add_argument("--device", choices=get_args(DeviceRequest), default="auto")
    parser.add_argument("--precision", choices=get_args(PrecisionRequest), default="auto", help="pipeline")
    parser.add_argument("--name", help="result file name (default: training_speed[_cuda])")
    args = parser.parse_args(argv)
    load_before = [round(x, 2) for x in os.getloadavg()]
    device = AcceleratorResource(device=args.device, precision=args.precision).resolve()
    dataset = sst2_dataset(args.sentences)
    train = dataset["train"]
    out = Path(tempfile.mkdtemp(prefix="bench-train-"))
    try:
        runs = {
            "padded_128": bare_trainer(train, args.padded_steps, True, out / "a", device.device),
            "bare_trainer_grouped": bare_trainer(train, -1, False, out / "b", device.device),
            "pipeline": pipeline(dataset, out / "c", device),
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)
    seconds = {name: s for name, (s, _) in runs.items()}
    rate = {name: n / s for name, (s, n) in runs.items()}
    return write_result(
        args.name or f"training_speed{device_suffix(device.device)}",
        {
            "device": device.device_name,
            "sentences": args.sentences,
            "train_rows": len(train),
            "samples": {name: n for name, (_, n) in runs.items()},
            "batch_size": 32,
            "threads": torch.get_num_threads(),
            "seconds": {k: round(v, 2) for k, v in seconds.items()},
            "samples_per_second": {k: round(v, 2) for k, v in rate.items()},
            "pipeline_vs_padded_128": round(rate["pipeline"] / rate["padded_128"], 2),
            "pipeline_vs_bare_trainer_grouped": round(rate["pipeline"] / rate["bare_trainer_grouped"], 3),
            "pipeline_precision": device.precision,
            "bare_trainer_precision": PRECISION,
            "load_average_1_5_15_min": {
                "before": load_before,
                "after": [round(x, 2) for x in os.getloadavg()],
            },
            "targets": {"pipeline_vs_padded_128": 6.0, "pipeline_vs_bare_trainer_grouped": 1.5},
        },
    )


if __name__ == "__main__":
    main()
