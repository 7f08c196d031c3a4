"""One pass of the real automation over the whole graph: sensor, daemon ticks, and the launched runs.

Training is the slow part, so the package shares one pass (see conftest.trained_chain). The training
step crashes once after its first checkpoint, from the test side: training runs in process (the same
Pipes entry point), its `train_classifier` is wrapped to add a Trainer callback, and the retry delay is
shortened; production code carries no test hook.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from transformers import TrainerCallback

import ft_assets.training.entrypoint as training_entrypoint
from ft_assets.automation import new_data_sensor
from ft_assets.definitions import ALL_ASSETS
from tests.automation.conftest import evaluate, materialize
from tests.conftest import TINY_MODEL_TRAINING

TRAIN = {
    "epochs": 2,
    "learning_rate": 1e-2,
    "batch_size": 8,
    "warmup_ratio": 0.0,
    "early_stopping_patience": 0,
    "seed": 7,
    **TINY_MODEL_TRAINING,
}
CHAIN_CONFIG = {
    "ops": {
        "tokenized_dataset": {"config": {"max_length": 32}},
        "fine_tuned_model": {"config": TRAIN},
        "onnx_model": {"config": {"parity_texts": 16, "latency_texts": 4}},
    }
}


class CrashAfterFirstCheckpoint(TrainerCallback):
    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"simulated crash after checkpoint-{state.global_step}")


@dataclass
class ChainRun:
    defs: dg.Definitions
    instance: dg.DagsterInstance
    artifacts: Path
    requested: set[str]
    run: dg.ExecuteInProcessResult
    requested_after: set[str]
    requested_after_unchanged_rerun: set[str]
    training_calls: int
    production_files: set[str]  # as the run left them; the promotion tests move production afterwards
    production_report: dict[str, Any]


def training_op() -> dg.OpDefinition:
    return next(a for a in ALL_ASSETS if dg.AssetKey("fine_tuned_model") in a.keys).op


def run_chain(
    defs: dg.Definitions, instance: dg.DagsterInstance, artifacts: Path, mp: pytest.MonkeyPatch
) -> ChainRun:
    real_train = training_entrypoint.train_classifier
    calls: list[int] = []

    def crash_first_attempt(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            kwargs["callbacks"] = [*kwargs.get("callbacks", ()), CrashAfterFirstCheckpoint()]
        return real_train(*args, **kwargs)

    mp.setattr(training_entrypoint, "train_classifier", crash_first_attempt)
    policy = training_op().retry_policy
    # Same number of retries as production, without production's 15 s wait.
    mp.setattr(training_op(), "_retry_policy", dg.RetryPolicy(max_retries=policy.max_retries, delay=0.1))

    _, tick = evaluate(defs, instance)
    context = dg.build_sensor_context(instance=instance, definitions=defs)
    [request] = new_data_sensor.evaluate_tick(context).run_requests
    assert materialize(defs, instance, ["raw_examples"], request.run_config).success
    requested, tick = evaluate(defs, instance, tick)
    quiet, tick = evaluate(defs, instance, tick)
    assert quiet == set()
    run = materialize(defs, instance, requested, CHAIN_CONFIG)
    production = artifacts / "production"
    files = {p.name for p in production.iterdir()}
    report = json.loads((production / "report.json").read_text())
    requested_after, tick = evaluate(defs, instance, tick)
    # raw_examples again on the same files (a click, the schedule's first step): no retraining may follow.
    assert materialize(defs, instance, ["raw_examples"], request.run_config).success
    unchanged, _ = evaluate(defs, instance, tick)
    return ChainRun(
        defs=defs,
        instance=instance,
        artifacts=artifacts,
        requested=requested,
        run=run,
        requested_after=requested_after,
        requested_after_unchanged_rerun=unchanged,
        training_calls=len(calls),
        production_files=files,
        production_report=report,
    )
