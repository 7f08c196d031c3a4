"""new_data_sensor asks for raw_examples only when the folder's content hash is new."""

from __future__ import annotations

import dagster as dg

from ft_assets.automation import new_data_sensor
from ft_assets.ingest.discovery import folder_version, scan
from tests.assets.conftest import make_rows, write_csv
from tests.automation.conftest import materialize


def tick(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, definitions=defs)
    return new_data_sensor.evaluate_tick(context)


def test_a_new_folder_state_requests_raw_examples_once_it_is_materialized_nothing(defs, instance, data_dir):
    first = tick(defs, instance)
    [request] = first.run_requests
    version = folder_version(scan(data_dir))
    assert request.run_key.startswith(version)
    assert request.tags["ft/data_version"] == version
    assert request.run_config["ops"]["raw_examples"]["config"]["data_dir"] == str(data_dir)

    assert materialize(defs, instance, ["raw_examples"], request.run_config).success
    unchanged = tick(defs, instance)
    assert unchanged.run_requests == []
    assert version in unchanged.skip_message

    write_csv(data_dir / "batch3.csv", make_rows(5, seed=3, prefix="new "))
    [after_drop] = tick(defs, instance).run_requests
    assert after_drop.tags["ft/data_version"] == folder_version(scan(data_dir)) != version
    assert after_drop.run_key != request.run_key


def test_reverting_to_an_earlier_batch_is_new_data_again(defs, instance, data_dir):
    original = tick(defs, instance).run_requests[0]
    materialize(defs, instance, ["raw_examples"], original.run_config)
    extra = write_csv(data_dir / "batch3.csv", make_rows(5, seed=3, prefix="new "))
    materialize(defs, instance, ["raw_examples"], tick(defs, instance).run_requests[0].run_config)
    extra.unlink()
    [reverted] = tick(defs, instance).run_requests
    assert reverted.tags["ft/data_version"] == original.tags["ft/data_version"]
    # A run_key the daemon has seen would be dropped silently; this one must be new.
    assert reverted.run_key != original.run_key


def test_an_empty_or_missing_folder_is_skipped_with_the_reason(defs, instance, data_dir, monkeypatch):
    for path in data_dir.iterdir():
        path.unlink()
    assert "no .csv" in tick(defs, instance).skip_message
    monkeypatch.setenv("FT_DATA_DIR", str(data_dir / "nowhere"))
    assert "does not exist" in tick(defs, instance).skip_message
