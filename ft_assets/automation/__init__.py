"""Automation: the new-data sensor, the data-version-aware downstream condition and the retrain schedule."""

from ft_assets.automation.conditions import on_new_upstream_data, with_automation
from ft_assets.automation.schedules import DEFAULT_RETRAIN_CRON, RETRAIN_CRON_ENV, build_retrain_schedule
from ft_assets.automation.sensors import automation_sensor, new_data_sensor

__all__ = [
    "DEFAULT_RETRAIN_CRON",
    "RETRAIN_CRON_ENV",
    "automation_sensor",
    "build_retrain_schedule",
    "new_data_sensor",
    "on_new_upstream_data",
    "with_automation",
]
