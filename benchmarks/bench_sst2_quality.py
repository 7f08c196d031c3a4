"""Quality on SST-2: fine-tune MiniLM with the pipeline's training code, score the SST-2 dev set.

The pipeline runs with TrainConfig's defaults unless --epochs/--learning-rate say otherwise. With
`--bare-trainer` the same train rows also go through a plain Trainer (lr 5e-5, batch 32, 3 epochs,
dynamic padding, random batches: what a user writes without this project) in the same process, so both
are measured under the same load; `uptime` load is recorded around each. Targets for 6,000 sentences:
pipeline dev accuracy >= 0.875 in <= 220 s of training. `--sentences 0` uses all 67,349 train rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import get_args

import numpy as np
from ft_serving.classifier import softmax

from benchmarks.bare_trainer import PRECISION, predict_ids, train_bare
from benchmarks.common import Timer, device_suffix, minilm_path, write_result
from benchmarks.sst2_data import LABELS, sst2_dataset
from ft_assets.evaluation.inference import predict_split
from ft_assets.evaluation.metrics import compute_report
from ft_assets.training.config import TrainConfig
from ft_assets.training.trainer import train_classifier
from ft_resources.accelerator import AcceleratorResource, DeviceRequest, PrecisionRequest

# The model kept with --keep is trained at this length; bench_serving builds its bundle.json with it.
MAX_LENGTH = 64


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=6000, help="0 = the whole train file")
    parser.add_argument("--epochs", type=int, help="default: TrainConfig's")
    parser.add_argument("--learning-rate", type=float, help="default: TrainConfig's")
    parser.add_argument("--seed", type=int, help="training seed (head, dropout, order), of both runs")
    parser.add_argument("--set", type=json.loads, default={}, help='more TrainConfig fields: {"k": v}')
    parser.add_argument(
        "--bare-trainer", action="store_true", help="also train the bare Trainer, side by side"
    )
    parser.add_argument("--max-length", type=int, default=MAX_LENGTH)
    parser.add_argument("--device", choices=get_args(DeviceRequest), default="auto")
    parser.add_argument("--precision", choices=get_args(PrecisionRequest), default="auto")
    parser.add_argument("--name", help="result file name (default: sst2_quality_<sentences>)")
    parser.add_argument("--keep", type=Path, help="copy the fine-tuned model folder here (for bench_serving)")
    args = parser.parse_args(argv)
    dataset = sst2_dataset(args.sentences or None, max_length=args.max_length)
    overrides = {"epochs": args.epochs, "learning_rate": args.learning_rate, "seed": args.seed}
    config = TrainConfig(**{key: value for key, value in overrides.items() if value is not None} | args.set)
    device = AcceleratorResource(device=args.device, precision=args.precision).resolve()
    load_before = os.getloadavg()
    out = Path(tempfile.mkdtemp(prefix="bench-sst2-"))
    try:
        with Timer() as wall:
            outcome = train_classifier(
                dataset,
                LABELS,
                minilm_path(),
                config,
                device,
                output_dir=out / "model",
                checkpoint_dir=out / "ckpt",
                log=print,
            )
        probabilities = softmax(predict_split(outcome.model_dir, dataset["test"]))
        if args.keep:
            shutil.rmtree(args.keep, ignore_errors=True)
            shutil.copytree(outcome.model_dir, args.keep)
        load_after = os.getloadavg()
        bare = _bare_trainer(dataset, out / "bare", device.device, config.seed) if args.bare_trainer else None
    finally:
        shutil.rmtree(out, ignore_errors=True)
    report = compute_report(
        dataset["test"]["labels"],
        probabilities.argmax(1).tolist(),
        probabilities,
        LABELS,
        dataset["test"]["text"],
    )
    name = args.name or f"sst2_quality_{args.sentences or 'full'}{device_suffix(device.device)}"
    return write_result(
        name,
        {
            "device": device.device_name,
            "precision": device.precision,
            "train_rows": len(dataset["train"]),
            "validation_rows": len(dataset["validation"]),
            "dev_rows": report.n_test,
            "config": config.model_dump(),
            "dev_accuracy": round(report.accuracy, 4),
            "dev_macro_f1": round(report.macro_f1, 4),
            "train_seconds": round(outcome.train_seconds, 1),
            "linear_probe_seconds": round(outcome.linear_probe_seconds, 1),
            "train_and_probe_seconds": round(outcome.train_seconds + outcome.linear_probe_seconds, 1),
            "wall_seconds": round(wall.seconds, 1),
            "epochs_completed": outcome.epochs_completed,
            "best_epoch": outcome.best_epoch,
            "kept_step": outcome.kept_step,
            # The held-out slice of train that choices are made on; dev above is only reported.
            "validation": outcome.evaluations,
            "train_samples_per_second": round(outcome.train_samples_per_second, 1),
            "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
            "bare_trainer_same_run": bare,
            "baseline_bare_trainer_6000_earlier": {"train_seconds": 444, "dev_accuracy": 0.868},
        },
    )


def _bare_trainer(dataset, out: Path, device: str, seed: int) -> dict:
    """The bare Trainer with the pipeline run's training seed, so seed studies compare like with like."""
    load_before = os.getloadavg()[0]
    run = train_bare(dataset["train"], out, learning_rate=5e-5, epochs=3, device=device, seed=seed)
    predicted = predict_ids(run, dataset["test"])
    truth = np.asarray(dataset["test"]["labels"])
    return {
        "recipe": "Trainer, lr 5e-5, batch 32, 3 epochs, warm-up 6%, dynamic padding, random batches, "
        + PRECISION,
        "seed": seed,
        "train_seconds": round(run.seconds, 1),
        "dev_accuracy": round(float((predicted == truth).mean()), 4),
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


if __name__ == "__main__":
    main()
