"""The training entry point that Dagster launches through Pipes: in its own process, as a subprocess, under
torchrun, or in a Kubernetes pod.

It imports the training code and dagster_pipes only, never the Definitions, so it runs wherever the
training code is installed. Every torchrun rank trains; rank 0 alone talks to Dagster (progress lines,
the outcome, the materialization metadata). Each rank that succeeds ends with a barrier and destroys its
process group, or torchrun would tear rank 0 down as soon as another rank exits; a rank that fails exits
at once with its error.

    python -m ft_assets.training.entrypoint --job '<TrainJob JSON>' [--outcome outcome.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import torch.distributed as dist
from dagster_pipes import (
    PipesContext,
    PipesDefaultContextLoader,
    PipesDefaultMessageWriter,
    PipesEnvVarParamsLoader,
    PipesParamsLoader,
)
from datasets import load_from_disk
from transformers import TrainerCallback

from ft_assets.training.config import TrainConfig
from ft_assets.training.job import TrainJob
from ft_assets.training.outcome import TrainOutcome
from ft_assets.training.trainer import train_classifier
from ft_resources.accelerator import AcceleratorResource

# The custom Pipes message that carries the outcome back to the asset.
OUTCOME_MESSAGE = "training_outcome"


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def run(
    job: TrainJob,
    *,
    params_loader: PipesParamsLoader | None = None,
    callbacks: Sequence[TrainerCallback] = (),
) -> TrainOutcome:
    """Train ``job``; report through Pipes when launched by Dagster (rank 0 only)."""
    loader = params_loader or PipesEnvVarParamsLoader()
    reporting = rank() == 0 and loader.is_dagster_pipes_process()
    # A fresh context per run, not open_dagster_pipes(): that returns a process-wide singleton, which stays
    # closed after a first attempt when the in-process launcher runs this again for a retry.
    session: AbstractContextManager[PipesContext | None] = (
        PipesContext(loader, PipesDefaultContextLoader(), PipesDefaultMessageWriter())
        if reporting
        else nullcontext()
    )
    with session as pipes:
        log = _logger(pipes)
        # On an error no barrier: the other ranks wait in a gradient all-reduce that this rank will never
        # join, so a barrier here would hang every rank until the process group's timeout (30 minutes).
        # The rank exits with its error instead, and torchrun stops the others and fails the job.
        outcome = _train(job, log, callbacks)
        if pipes is not None:
            pipes.report_custom_message({"type": OUTCOME_MESSAGE, **outcome_message(outcome)})
            pipes.report_asset_materialization(metadata=materialization_metadata(outcome, job))
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return outcome


def _train(job: TrainJob, log: Callable[[str], None], callbacks: Sequence[TrainerCallback]) -> TrainOutcome:
    config = TrainConfig(**job.config)
    device = AcceleratorResource(**job.accelerator).resolve()
    dataset = load_from_disk(job.dataset_path)
    log(f"checkpoints in {job.checkpoint_dir}")
    outcome = train_classifier(
        dataset,
        job.label_names,
        job.base_model,
        config,
        device,
        output_dir=Path(job.output_dir),
        checkpoint_dir=Path(job.checkpoint_dir),
        log=log,
        callbacks=callbacks,
    )
    if len(set(outcome.rank_digests)) > 1:
        raise RuntimeError(f"the ranks ended with different parameters: {outcome.rank_digests}")
    return outcome


def outcome_message(outcome: TrainOutcome) -> dict[str, Any]:
    return {
        "summary": {k: v for k, v in outcome.summary().items() if k != "model_dir"},
        "fine_tuning": outcome.fine_tuning,
        "evaluations": outcome.evaluations,
        "log_history": outcome.log_history,
    }


def materialization_metadata(outcome: TrainOutcome, job: TrainJob) -> dict[str, Any]:
    """Plain values; Dagster types them on its side."""
    tuning = outcome.fine_tuning
    return {
        "device": outcome.device_name,
        "precision": outcome.precision,
        "method": tuning["method"],
        "method_detail": tuning["detail"],
        "pooling": tuning["pooling"],
        "trainable_parameters": tuning["trainable_parameters"],
        "total_parameters": tuning["total_parameters"],
        "adapter_bytes": tuning["adapter_bytes"] or 0,
        "train_seconds": round(outcome.train_seconds, 1),
        "samples_per_second": round(outcome.train_samples_per_second, 2),
        "tokens_per_second": round(outcome.train_tokens_per_second, 1),
        "feature_cache_seconds": round(outcome.feature_cache_seconds, 1),
        "linear_probe_seconds": round(outcome.linear_probe_seconds, 1),
        "epochs_completed": round(outcome.epochs_completed, 2),
        "global_step": outcome.global_step,
        f"best_{outcome.metric_name}": round(float(outcome.best_metric or 0.0), 4),
        "kept_weights": f"{outcome.keep_model} (step {outcome.kept_step})",
        "resumed_from_step": outcome.resumed_from_step or 0,
        "resume": outcome.resume,
        "world_size": outcome.world_size,
        "ranks_in_sync": len(set(outcome.rank_digests)) <= 1,
        "peak_memory_mb": round(outcome.peak_memory_mb, 1),
        "checkpoint_dir": {"raw_value": job.checkpoint_dir, "type": "path"},
    }


def _logger(pipes: PipesContext | None) -> Callable[[str], None]:
    if pipes is not None:
        return pipes.log.info
    if rank() == 0:
        return lambda line: print(line, flush=True)
    return lambda line: None  # the other ranks would only repeat rank 0's lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", required=True, help="a TrainJob as JSON")
    parser.add_argument(
        "--outcome", type=Path, help="also write the outcome here as JSON (runs outside Dagster)"
    )
    args = parser.parse_args(argv)
    outcome = run(TrainJob.model_validate_json(args.job))
    if args.outcome is not None and rank() == 0:
        args.outcome.write_text(json.dumps(outcome_message(outcome), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
