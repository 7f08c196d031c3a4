"""Which fine-tuning method to pick: head_only, partial, full and LoRA side by side on SST-2, plus DDP.

Every run is the pipeline's own training entry point in a fresh process (as the `subprocess` and
`torchrun` launch modes run it), so peak memory is that run's alone. 6,000 SST-2 train sentences (5 % of
them for validation), scored on the 872 dev sentences with the bundled MiniLM.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import RESULTS, minilm_path, write_result
from benchmarks.sst2_data import LABELS, sst2_dataset
from ft_assets.evaluation.inference import predict_split
from ft_assets.training.config import TrainConfig
from ft_assets.training.job import TrainJob
from ft_resources.training_launcher import TrainingLauncher

MAX_LENGTH = 64
# Each method at its own default learning rate (TrainConfig: adapters and a lone head need larger steps
# than full fine-tuning) and the default head (mean-pooled for MiniLM). Same epochs for all.
METHODS: dict[str, dict[str, Any]] = {
    "full": {"method": "full"},
    "lora": {"method": "lora", "lora_r": 8, "lora_alpha": 16},
    # The stock [CLS] head with BERT's pooler trained beside the adapters: the alternative to mean pooling.
    "lora_cls_pooler": {"method": "lora", "pooling": "cls", "lora_modules_to_save": ["pooler"]},
    "head_only_cached": {"method": "head_only", "cache_features": True},
    "partial": {"method": "partial", "frozen_layers": 3},
    "head_only": {"method": "head_only", "cache_features": False},
    # Cached features make epochs cheap, so a lone head can afford the many epochs it needs.
    "head_only_cached_30_epochs": {
        "method": "head_only",
        "cache_features": True,
        "epochs": 30,
        "early_stopping_patience": 5,
    },
}
DEFAULT_METHODS = "full,lora,lora_cls_pooler,head_only_cached,head_only_cached_30_epochs,partial"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def train(
    work: Path,
    name: str,
    dataset_dir: Path,
    config: TrainConfig,
    launcher: TrainingLauncher,
    threads: int = 0,
) -> dict[str, Any]:
    """One training run through the entry point; returns its outcome and wall time."""
    run_dir = work / "".join(c if c.isalnum() else "_" for c in name)
    job = TrainJob(
        dataset_path=str(dataset_dir),
        label_names=LABELS,
        base_model=minilm_path(),
        config=config.model_dump(),
        accelerator={"device": "cpu", "num_threads": threads},
        output_dir=str(run_dir / "model"),
        checkpoint_dir=str(run_dir / "checkpoints"),
    )
    outcome_file = run_dir / "outcome.json"
    run_dir.mkdir(parents=True)
    env = {**os.environ, **launcher.process_env(), **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    started = time.perf_counter()
    subprocess.run([*launcher.command(job), "--outcome", str(outcome_file)], check=True, env=env)
    wall = time.perf_counter() - started
    outcome = json.loads(outcome_file.read_text())
    return {"wall_seconds": round(wall, 1), "model_dir": run_dir / "model", **outcome}


def dev_accuracy(model_dir: Path, dataset: Any) -> float:
    logits = predict_split(model_dir, dataset["test"])
    return round(float(np.mean(logits.argmax(1) == np.asarray(dataset["test"]["labels"]))), 4)


def method_row(name: str, config: TrainConfig, result: dict[str, Any], accuracy: float) -> dict[str, Any]:
    summary, tuning = result["summary"], result["fine_tuning"]
    epochs = summary["epochs_completed"] or 1.0
    return {
        "method": name,
        "config": METHODS[name],
        "learning_rate": config.peak_learning_rate,
        "pooling": tuning["pooling"],
        "dev_accuracy": accuracy,
        "train_seconds": summary["train_seconds"],
        "seconds_per_epoch": round(summary["train_seconds"] / epochs, 1),
        "feature_cache_seconds": summary["feature_cache_seconds"],
        "wall_seconds": result["wall_seconds"],
        "epochs_completed": epochs,
        "best_epoch": summary["best_epoch"],
        "trainable_parameters": tuning["trainable_parameters"],
        "total_parameters": tuning["total_parameters"],
        "adapter_bytes": tuning["adapter_bytes"],
        "peak_memory_mb": summary["peak_memory_mb"],
        "samples_per_second": summary["train_samples_per_second"],
    }


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=1, help="the same for every method")
    parser.add_argument("--ddp-steps", type=int, default=20, help="optimizer steps of each DDP timing run")
    parser.add_argument(
        "--methods", default=DEFAULT_METHODS, help=f"comma-separated, of {', '.join(METHODS)}"
    )
    parser.add_argument("--skip-ddp", action="store_true")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per method run (0 = torch's default); on a shared 2-core machine two spinning "
        "OpenMP threads made a training step 8x slower than one (see the DDP runs)",
    )
    parser.add_argument("--name", default="methods", help="result file name (benchmarks/results/NAME.json)")
    args = parser.parse_args(argv)
    load_before = load_average()
    dataset = sst2_dataset(args.sentences, max_length=MAX_LENGTH)
    work = Path(tempfile.mkdtemp(prefix="bench-methods-"))
    rows: list[dict[str, Any]] = []
    ddp: dict[str, Any] = {}
    target = RESULTS / f"{args.name}.json"
    try:
        dataset_dir = work / "dataset"
        dataset.save_to_disk(str(dataset_dir))
        single = TrainingLauncher(mode="subprocess")
        for name in [name for name in args.methods.split(",") if name]:
            config = TrainConfig(**{"epochs": args.epochs, **METHODS[name]})
            print(f"== {name}", flush=True)
            result = train(work, name, dataset_dir, config, single, args.threads)
            rows.append(method_row(name, config, result, dev_accuracy(result["model_dir"], dataset)))
            print(json.dumps(rows[-1]), flush=True)
            target = save(args, dataset, rows, ddp, load_before)  # a late failure keeps what finished
        if not args.skip_ddp:
            ddp = compare_ddp(work, dataset_dir, dataset, args.ddp_steps)
            target = save(args, dataset, rows, ddp, load_before)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def save(
    args: argparse.Namespace, dataset: Any, rows: list[dict[str, Any]], ddp: dict[str, Any], load: list[float]
) -> Path:
    return write_result(
        args.name,
        {
            "train_rows": len(dataset["train"]),
            "validation_rows": len(dataset["validation"]),
            "dev_rows": len(dataset["test"]),
            "max_length": MAX_LENGTH,
            "epochs": args.epochs,
            "threads_per_method_run": args.threads,
            "methods": rows,
            "ddp": ddp,
            "load_average_1_5_15_min": {"before": load, "after": load_average()},
        },
    )


def compare_ddp(work: Path, dataset_dir: Path, dataset: Any, steps: int) -> dict[str, Any]:
    """Full fine-tuning, same global batch (32) and steps: one process (torch's default threads, then one
    thread) vs torchrun with two single-threaded ranks."""
    runs = {}
    for label, launcher, batch, threads in (
        ("1 process, default threads", TrainingLauncher(mode="subprocess"), 32, 0),
        ("1 process, 1 thread", TrainingLauncher(mode="subprocess"), 32, 1),
        (
            "2 processes (torchrun, gloo), 1 thread each",
            TrainingLauncher(mode="torchrun", nproc_per_node=2),
            16,
            0,
        ),
    ):
        config = TrainConfig(max_steps=steps, batch_size=batch, method="full")
        print(f"== DDP comparison: {label}", flush=True)
        result = train(work, f"ddp {label}", dataset_dir, config, launcher, threads)
        summary = result["summary"]
        runs[label] = {
            "per_device_batch_size": batch,
            "world_size": summary["world_size"],
            "train_seconds": summary["train_seconds"],
            "wall_seconds": result["wall_seconds"],
            "global_steps": summary["global_step"],
            "seconds_per_step": round(summary["train_seconds"] / max(summary["global_step"], 1), 2),
            "dev_accuracy": dev_accuracy(result["model_dir"], dataset),
            "peak_memory_mb_rank0": summary["peak_memory_mb"],
        }
        print(json.dumps(runs[label]), flush=True)
    return {"max_steps": steps, "global_batch": 32, "method": "full", "runs": runs}


if __name__ == "__main__":
    main()
