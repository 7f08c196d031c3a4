"""The periodic retrain: every asset from raw_examples down, on whatever data is there."""

from __future__ import annotations

import os

import dagster as dg

RETRAIN_CRON_ENV = "FT_RETRAIN_CRON"
DEFAULT_RETRAIN_CRON = "0 3 * * 1"  # Mondays 03:00 UTC


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
            tags={"ft/trigger": "retrain_schedule"},
            description="raw_examples and everything downstream of it, in one run.",
        ),
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"Re-reads FT_DATA_DIR and retrains, evaluates, exports and re-gates the model ({schedule} UTC; "
            f"set {RETRAIN_CRON_ENV} to change it). The champion/challenger gate still decides promotion."
        ),
    )
