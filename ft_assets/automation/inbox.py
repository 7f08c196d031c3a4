"""The inbox sensor: new or changed unlabeled files, or a new production model, get the inbox scored."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from ft_serving.production import read_production_pointer

from ft_assets.assets.batch_predictions import inbox_files, inbox_version
from ft_assets.automation.sensors import materialized_data_version
from ft_resources import settings

PREDICTIONS_KEY = dg.AssetKey("batch_predictions")
PRODUCTION_KEY = dg.AssetKey("production_model")


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
    if not inbox_files(folder):
        return dg.SkipReason(f"{folder}: no inbox files")
    pointer = read_production_pointer(settings.artifacts_dir())
    if pointer is None or context.instance.get_latest_materialization_event(PRODUCTION_KEY) is None:
        return dg.SkipReason("no production model yet")
    current = inbox_version(folder)
    scored, storage_id = materialized_data_version(context.instance, PREDICTIONS_KEY)
    # batch_predictions' data version is "<inbox hash>-<model version>"; a model version may hold "-".
    if scored is not None and scored.split("-", 1) == [current, pointer.model_version]:
        return dg.SkipReason(f"{folder}: inbox {current} is already scored by model {pointer.model_version}")
    return dg.RunRequest(
        run_key=f"inbox-{current}-{pointer.model_version}@{storage_id}",
        run_config={"ops": {"batch_predictions": {"config": {"inbox_dir": str(folder)}}}},
        tags={
            "ft/inbox_version": current,
            "ft/model_version": pointer.model_version,
            "ft/trigger": "inbox_sensor",
        },
    )
