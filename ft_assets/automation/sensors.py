"""Sensors: a file watcher that feeds new batches in, and the daemon that carries them downstream."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dagster as dg

from ft_assets.assets.raw import RawDataConfig, read_options
from ft_assets.ingest.discovery import IngestError, folder_version, scan
from ft_resources import settings

RAW_KEY = dg.AssetKey("raw_examples")
# Where Dagster records the data version of a materialization (DataVersion returned by raw_examples).
DATA_VERSION_TAG = "dagster/data_version"
TRIGGER_TAG = "ft/trigger"  # which sensor or schedule asked for a run


def materialized_data_version(instance: dg.DagsterInstance, key: dg.AssetKey) -> tuple[str | None, int]:
    """(data version, storage id) of the latest materialization of `key`; (None, 0) when there is none."""
    version, storage_id, _ = _latest_materialization(instance, key)
    return version, storage_id


def _latest_materialization(
    instance: dg.DagsterInstance, key: dg.AssetKey
) -> tuple[str | None, int, dict[str, Any]]:
    """(data version, storage id, metadata values) of the latest materialization of `key`."""
    record = instance.get_latest_data_version_record(key, is_source=False)
    if record is None or record.asset_materialization is None:
        return None, 0, {}
    materialization = record.asset_materialization
    metadata = {name: value.value for name, value in materialization.metadata.items()}
    return (materialization.tags or {}).get(DATA_VERSION_TAG), record.storage_id, metadata


def recorded_read_settings(instance: dg.DagsterInstance, log: logging.Logger) -> dict[str, Any]:
    """The read options of raw_examples' latest materialization, as its config ({}: the defaults). The
    sensor and the retrain schedule read with them, so a manual re-read's column mapping is kept."""
    _, _, metadata = _latest_materialization(instance, RAW_KEY)
    return _read_settings(metadata.get("read_options"), log)


def _read_settings(recorded: object, log: logging.Logger) -> dict[str, Any]:
    """The read options raw_examples' latest materialization recorded (`read_options`), as config; {} (the
    defaults) when there is none or they no longer fit RawDataConfig."""
    if not isinstance(recorded, dict):
        return {}
    known = {name: value for name, value in recorded.items() if name in RawDataConfig.model_fields}
    known.pop("data_dir", None)
    try:
        RawDataConfig(**known)
    except Exception as exc:  # pydantic's ValidationError: a field whose type changed
        log.warning(f"ignoring the recorded read options {recorded}: {exc}")
        return {}
    return known


@dg.sensor(
    name="new_data_sensor",
    target=dg.AssetSelection.assets(RAW_KEY),
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Hashes the batch files in FT_DATA_DIR every 30 s, with the read options (column mapping, "
        "encoding, TSV quoting) and reader version of raw_examples' latest materialization, and "
        "materializes raw_examples with those options when the hash differs from that materialization's "
        "data version; new_data_automation then carries the change down to production_model. An "
        "unchanged folder requests nothing."
    ),
)
def new_data_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    folder = Path(settings.data_dir())
    materialized, storage_id, metadata = _latest_materialization(context.instance, RAW_KEY)
    # The options the data was last read with (a manual re-read with label_column=fine_label, say) are
    # kept: the version is hashed with them, exactly as raw_examples hashes it, and a new file is read
    # with them. Only the reader version is today's, so a reader fix reads the folder again.
    config = {"data_dir": str(folder), **_read_settings(metadata.get("read_options"), context.log)}
    try:
        found = scan(folder)
        current = folder_version(found, read_options(RawDataConfig(**config)))
    except (IngestError, OSError) as exc:
        return dg.SkipReason(str(exc))
    # A file the pipeline cannot read is no new data (it would not change what trains), but every tick
    # names it, in the log and in the skip reason, so it is not missed.
    for skipped in found.skipped:
        context.log.warning(str(skipped))
    if current == materialized:
        listed = "".join(f"; {s}" for s in found.skipped)
        return dg.SkipReason(f"{folder}: data version {current} is already materialized{listed}")
    return dg.RunRequest(
        # The storage id makes A -> B -> A a new request while keeping one request per folder state,
        # so a version whose run is still queued, running or failed is not requested again.
        run_key=f"{current}@{storage_id}",
        run_config={"ops": {"raw_examples": {"config": config}}},
        tags={"ft/data_version": current, TRIGGER_TAG: "new_data_sensor"},
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
