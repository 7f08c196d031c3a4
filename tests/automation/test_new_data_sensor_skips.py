"""new_data_sensor names the files it cannot read, and a file it cannot read is no new data."""

from __future__ import annotations

import dagster as dg

from ft_assets.automation import new_data_sensor
from tests.automation.conftest import materialize


def tick(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.SensorResult:
    return new_data_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))


def test_unreadable_files_are_named_on_every_tick_without_retraining(defs, instance, data_dir, tmp_path):
    [request] = tick(defs, instance).run_requests
    assert materialize(defs, instance, ["raw_examples"], request.run_config).success
    (data_dir / "export.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / "outside.csv").write_text("text,label\nsecret,billing\n")
    (data_dir / "link.csv").symlink_to(tmp_path / "outside.csv")
    skipped = tick(defs, instance)
    assert skipped.run_requests == []
    assert "is already materialized" in skipped.skip_message
    assert "skipped export.xlsx: unsupported file type '.xlsx'" in skipped.skip_message
    assert "skipped link.csv: symbolic link to" in skipped.skip_message
    assert "outside the data folder; refused" in skipped.skip_message
