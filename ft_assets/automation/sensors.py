"""Sensors: a file watcher that feeds new batches in, and the daemon that carries them downstream."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ft_assets.ingest.discovery import IngestError, folder_version, scan
from ft_resources import settings

RAW_KEY = dg.AssetKey("raw_examples")
# Where Dagster records the data version of a materialization (DataVersion returned by raw_examples).
DATA_VERSION_TAG = "dagster/data_version"


def materialized_data_version(instance: dg.DagsterInstance, key: dg.AssetKey) -> tuple[str | None, int]:
    """(data version, storage id) of the latest materialization of `key`; (None, 0) when there is none."""
    record = instance.get_latest_data_version_record(key, is_source=False)
    if record is None or record.asset_materialization is None:
        return None, 0
    return record.asset_materialization.tags.get(DATA_VERSION_TAG), record.storage_id


@dg.sensor(
    name="new_data_sensor",
    target=dg.AssetSelection.assets(RAW_KEY),
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Hashes the batch files in FT_DATA_DIR every 30 s and materializes raw_examples when the hash "
        "differs from the data version of its latest materialization; new_data_automation then carries "
        "the change down to production_model. An unchanged folder requests nothing."
    ),
)
def new_data_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    folder = Path(settings.data_dir())
    try:
        found = scan(folder)
        current = folder_version(found)
    except (IngestError, OSError) as exc:
        return dg.SkipReason(str(exc))
    # A file the pipeline cannot read is no new data (it would not change what trains), but every tick
    # names it, in the log and in the skip reason, so it is not missed.
    for skipped in found.skipped:
        context.log.warning(str(skipped))
    materialized, storage_id = materialized_data_version(context.instance, RAW_KEY)
    if current == materialized:
        listed = "".join(f"; {s}" for s in found.skipped)
        return dg.SkipReason(f"{folder}: data version {current} is already materialized{listed}")
    return dg.RunRequest(
        # The storage id makes A -> B -> A a new request while keeping one request per folder state,
        # so a version whose run is still queued, running or failed is not requested again.
        run_key=f"{current}@{storage_id}",
        run_config={"ops": {"raw_examples": {"config": {"data_dir": str(folder)}}}},
        tags={"ft/data_version": current, "ft/trigger": "new_data_sensor"},
    )


automation_sensor = dg.AutomationConditionSensorDefinition(
    "new_data_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=(
        "Evaluates the assets' automation conditions: each derived asset runs once its upstream data "
        "version changes and upstream blocking checks pass, so a new batch retrains and re-gates the model."
    ),
)
