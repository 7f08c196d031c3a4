"""The Dagster code location: every asset, check, schedule, sensor and resource."""

from __future__ import annotations

import dagster as dg

from ft_assets.assets.batch_predictions import batch_predictions
from ft_assets.assets.evaluation import evaluation_report
from ft_assets.assets.evaluation_checks import beats_lexical_baseline
from ft_assets.assets.onnx import onnx_model
from ft_assets.assets.production import production_model
from ft_assets.assets.raw import raw_examples
from ft_assets.assets.splits import dataset_splits
from ft_assets.assets.tokenized import tokenized_dataset
from ft_assets.assets.training import fine_tuned_model
from ft_assets.assets.validated import validate_raw_examples
from ft_assets.automation import automation_sensor, build_retrain_schedule, new_data_sensor, with_automation
from ft_assets.automation.inbox import inbox_sensor
from ft_assets.resources import build_resources
from ft_assets.retention.job import build_prune_job, build_prune_schedule
from ft_resources.k8s import run_executor

# raw_examples has no upstream asset, so with_automation leaves it to new_data_sensor.
DATA_ASSETS = with_automation([raw_examples, validate_raw_examples, dataset_splits, tokenized_dataset])
MODEL_ASSETS = with_automation([fine_tuned_model, evaluation_report, onnx_model, production_model])
SERVING_ASSETS = with_automation([batch_predictions])
ALL_ASSETS = [*DATA_ASSETS, *MODEL_ASSETS, *SERVING_ASSETS]
ALL_CHECKS: list[dg.AssetChecksDefinition] = [beats_lexical_baseline]
SENSORS = [new_data_sensor, automation_sensor, inbox_sensor]
PRUNE_JOB = build_prune_job([key for asset in ALL_ASSETS for key in asset.keys])
SCHEDULES = [build_retrain_schedule(), build_prune_schedule(PRUNE_JOB)]

defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    sensors=SENSORS,
    schedules=SCHEDULES,
    jobs=[PRUNE_JOB],
    resources=build_resources(),
    executor=run_executor(),
)
