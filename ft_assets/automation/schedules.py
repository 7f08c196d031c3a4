"""The periodic retrain: every asset from raw_examples down, on whatever data is there."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from ft_assets.automation.sensors import TRIGGER_TAG, recorded_read_settings

RETRAIN_CRON_ENV = "FT_RETRAIN_CRON"
DEFAULT_RETRAIN_CRON = "0 3 * * 1"  # Mondays 03:00 UTC


def _run_config(context: dg.ScheduleEvaluationContext) -> dict[str, Any]:
    """raw_examples reads with the options of its latest materialization, as new_data_sensor does: a
    column mapping or encoding chosen in the Launchpad is not reverted to the defaults every week."""
    settings = recorded_read_settings(context.instance, context.log)
    return {"ops": {"raw_examples": {"config": settings}}} if settings else {}


def build_retrain_schedule(cron: str | None = None) -> dg.ScheduleDefinition:
    """`cron` (default: $FT_RETRAIN_CRON, else weekly) runs raw_examples and everything downstream."""
    schedule = cron or os.environ.get(RETRAIN_CRON_ENV) or DEFAULT_RETRAIN_CRON
    return dg.ScheduleDefinition(
        name="retrain_schedule",
        cron_schedule=schedule,
        execution_timezone="UTC",
        target=dg.define_asset_job(
            "retrain_job",
            selection=dg.AssetSelection.assets("raw_examples").downstream(),
            tags={TRIGGER_TAG: "retrain_schedule"},
            description="raw_examples and everything downstream of it, in one run.",
        ),
        run_config_fn=_run_config,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"Re-reads FT_DATA_DIR and retrains, evaluates, exports and re-gates the model ({schedule} UTC; "
            f"set {RETRAIN_CRON_ENV} to change it), with the read options of the latest raw_examples "
            "run. The champion/challenger gate still decides promotion."
        ),
    )
