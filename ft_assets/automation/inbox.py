"""The inbox sensor: new or changed unlabeled files are scored with the current production model."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

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
        "Hashes the files in FT_INBOX_DIR every 30 s and materializes batch_predictions when they differ "
        "from what its latest materialization scored (a new production model is handled by automation)."
    ),
)
def inbox_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    folder = Path(settings.inbox_dir())
    if not inbox_files(folder):
        return dg.SkipReason(f"{folder}: no inbox files")
    if context.instance.get_latest_materialization_event(PRODUCTION_KEY) is None:
        return dg.SkipReason("no production model yet")
    current = inbox_version(folder)
    scored, storage_id = materialized_data_version(context.instance, PREDICTIONS_KEY)
    # batch_predictions' data version is "<inbox hash>-<model version>".
    if scored is not None and scored.split("-")[0] == current:
        return dg.SkipReason(f"{folder}: inbox {current} is already scored")
    return dg.RunRequest(
        run_key=f"inbox-{current}@{storage_id}",
        run_config={"ops": {"batch_predictions": {"config": {"inbox_dir": str(folder)}}}},
        tags={"ft/inbox_version": current, "ft/trigger": "inbox_sensor"},
    )
