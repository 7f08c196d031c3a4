"""The inbox sensor: new or changed unlabeled files, or a new production model, get the inbox scored."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from ft_serving.production import read_production_pointer

from ft_assets.assets.batch_predictions import inbox_scan, inbox_version
from ft_assets.automation.sensors import TRIGGER_TAG, materialized_data_version
from ft_resources import settings

PREDICTIONS_KEY = dg.AssetKey("batch_predictions")
PRODUCTION_KEY = dg.AssetKey("production_model")
# Runs for one inbox and model that may fail (a store that did not answer, a pod killed) before the sensor
# stops asking and says so; a new file or another production model is asked for afresh.
MAX_ATTEMPTS = 3
INBOX_TAG, MODEL_TAG = "ft/inbox_version", "ft/model_version"


@dg.sensor(
    name="inbox_sensor",
    target=dg.AssetSelection.assets(PREDICTIONS_KEY),
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Every 30 s hashes the files in FT_INBOX_DIR and reads registry/production.json; materializes "
        "batch_predictions when the inbox or the production model differs from what it last scored, so "
        "a rollback (which switches the pointer without a materialization) is scored too."
    ),
)
def inbox_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    folder = Path(settings.inbox_dir())
    scored, storage_id = materialized_data_version(context.instance, PREDICTIONS_KEY)
    # An inbox emptied after it was scored is scored once more, empty: predictions of files that are gone
    # must not stay the latest.
    if not inbox_scan(folder).files and scored is None:
        return dg.SkipReason(f"{folder}: no inbox files")
    pointer = read_production_pointer(settings.artifacts_dir())
    if pointer is None or context.instance.get_latest_materialization_event(PRODUCTION_KEY) is None:
        return dg.SkipReason("no production model yet")
    current, model = inbox_version(folder), pointer.model_version
    # batch_predictions' data version is "<inbox hash>-<model version>"; a model version may hold "-".
    if scored is not None and scored.split("-", 1) == [current, model]:
        return dg.SkipReason(f"{folder}: inbox {current} is already scored by model {model}")
    # A failed run records no materialization, so the same request would carry the same run key, which the
    # daemon drops: the attempt number goes into the key, up to MAX_ATTEMPTS.
    failed = context.instance.get_runs_count(
        dg.RunsFilter(
            tags={INBOX_TAG: current, MODEL_TAG: model},
            statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
        )
    )
    if failed >= MAX_ATTEMPTS:
        return dg.SkipReason(
            f"{folder}: scoring inbox {current} with model {model} failed {failed} times; see those runs. "
            "A changed inbox or another production model is tried again, or materialize batch_predictions"
        )
    return dg.RunRequest(
        run_key=f"inbox-{current}-{model}@{storage_id}#{failed}",
        run_config={"ops": {"batch_predictions": {"config": {"inbox_dir": str(folder)}}}},
        tags={INBOX_TAG: current, MODEL_TAG: model, TRIGGER_TAG: "inbox_sensor"},
    )
