from pathlib import Path

import dagster as dg
from ft_serving.local_writes import write_bytes
from ft_serving.production import POINTER_PATH, ProductionPointer, bundle_path

from ft_assets.assets.batch_predictions import inbox_version
from ft_assets.automation.inbox import inbox_sensor


def evaluate(instance):
    return inbox_sensor(dg.build_sensor_context(instance=instance))


def report(instance, key, data_version=None):
    tags = {"dagster/data_version": data_version} if data_version else None
    instance.report_runless_asset_event(dg.AssetMaterialization(key, tags=tags))


def point_production_at(artifacts: Path, version: str) -> None:
    """What a promotion or `make rollback` does to the pointer (the bundle itself is not read here)."""
    pointer = ProductionPointer(version, bundle_path(version), "2026-01-01T00:00:00+00:00", {})
    write_bytes(artifacts / POINTER_PATH, pointer.to_json())


def test_inbox_sensor_scores_new_files_once(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    artifacts = tmp_path / "artifacts"
    monkeypatch.setenv("FT_INBOX_DIR", str(inbox))
    monkeypatch.setenv("FT_ARTIFACTS_DIR", str(artifacts))
    with dg.instance_for_test() as instance:
        assert isinstance(evaluate(instance), dg.SkipReason)  # empty inbox
        (inbox / "a.txt").write_text("where is my parcel\n")
        assert "no production model" in evaluate(instance).skip_message
        report(instance, "production_model")
        assert "no production model" in evaluate(instance).skip_message  # rejected: no pointer yet
        point_production_at(artifacts, "model-1")
        request = evaluate(instance)
        assert isinstance(request, dg.RunRequest)
        assert request.run_config["ops"]["batch_predictions"]["config"]["inbox_dir"] == str(inbox)
        report(instance, "batch_predictions", f"{inbox_version(inbox)}-model-1")
        assert "already scored" in evaluate(instance).skip_message
        (inbox / "b.csv").write_text("text\nmy card was charged twice\n")
        assert isinstance(evaluate(instance), dg.RunRequest)


def test_inbox_sensor_rescores_after_a_rollback(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("where is my parcel\n")
    artifacts = tmp_path / "artifacts"
    monkeypatch.setenv("FT_INBOX_DIR", str(inbox))
    monkeypatch.setenv("FT_ARTIFACTS_DIR", str(artifacts))
    with dg.instance_for_test() as instance:
        report(instance, "production_model")
        point_production_at(artifacts, "model-2")
        report(instance, "batch_predictions", f"{inbox_version(inbox)}-model-2")
        assert "already scored" in evaluate(instance).skip_message
        # A rollback switches the pointer and records no materialization: the sensor must notice.
        point_production_at(artifacts, "model-1")
        request = evaluate(instance)
        assert isinstance(request, dg.RunRequest)
        assert request.tags["ft/model_version"] == "model-1"
