"""What the UI shows on a fresh instance: both sensors on, the retrain schedule on its cron."""

from __future__ import annotations

import dagster as dg
import pytest

from ft_assets.automation import DEFAULT_RETRAIN_CRON, RETRAIN_CRON_ENV, build_retrain_schedule
from ft_assets.definitions import SCHEDULES, SENSORS, defs
from tests.automation.conftest import DOWNSTREAM


def test_the_sensors_and_the_schedule_start_running():
    assert {s.name: s.default_status for s in SENSORS} == {
        "new_data_sensor": dg.DefaultSensorStatus.RUNNING,
        "new_data_automation": dg.DefaultSensorStatus.RUNNING,
        "inbox_sensor": dg.DefaultSensorStatus.RUNNING,
    }
    # Retraining runs by default; deleting artifacts (prune_schedule) waits for an operator to turn it on.
    assert {s.name: s.default_status for s in SCHEDULES} == {
        "retrain_schedule": dg.DefaultScheduleStatus.RUNNING,
        "prune_schedule": dg.DefaultScheduleStatus.STOPPED,
    }


def test_the_retrain_job_covers_raw_examples_and_everything_downstream():
    job = defs.get_repository_def().get_job("retrain_job")
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert keys == DOWNSTREAM | {"raw_examples"}


def test_the_cron_is_weekly_unless_the_environment_says_otherwise(monkeypatch):
    monkeypatch.delenv(RETRAIN_CRON_ENV, raising=False)
    assert build_retrain_schedule().cron_schedule == DEFAULT_RETRAIN_CRON == "0 3 * * 1"
    monkeypatch.setenv(RETRAIN_CRON_ENV, "30 2 * * *")
    schedule = build_retrain_schedule()
    assert schedule.cron_schedule == "30 2 * * *"
    assert RETRAIN_CRON_ENV in schedule.description


def test_a_malformed_cron_fails_when_the_code_location_loads(monkeypatch):
    monkeypatch.setenv(RETRAIN_CRON_ENV, "every monday")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="every monday"):
        build_retrain_schedule()


def test_the_schedule_reads_with_the_options_of_the_latest_raw_examples_run():
    schedule = build_retrain_schedule()
    with dg.instance_for_test() as instance:
        # Nothing read yet: raw_examples' defaults.
        [request] = schedule.evaluate_tick(dg.build_schedule_context(instance=instance)).run_requests
        assert request.run_config == {}
        chosen = {
            "text_column": "sentence",
            "label_column": "fine_label",
            "encoding": "cp1252",
            "tsv_quoting": True,
        }
        instance.report_runless_asset_event(
            dg.AssetMaterialization("raw_examples", metadata={"read_options": dg.MetadataValue.json(chosen)})
        )
        [request] = schedule.evaluate_tick(dg.build_schedule_context(instance=instance)).run_requests
        assert request.run_config == {"ops": {"raw_examples": {"config": chosen}}}
