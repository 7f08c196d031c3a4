from pathlib import Path

import dagster as dg
from ft_serving.local_writes import write_bytes
from ft_serving.production import POINTER_PATH, ProductionPointer, bundle_path

from ft_assets.assets.batch_predictions import inbox_version
from ft_assets.automation.inbox import MAX_ATTEMPTS, inbox_sensor


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


def scored_setup(tmp_path, monkeypatch) -> Path:
    """An inbox holding a.txt and production pointing at model-1."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("where is my parcel\n")
    monkeypatch.setenv("FT_INBOX_DIR", str(inbox))
    monkeypatch.setenv("FT_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    point_production_at(tmp_path / "artifacts", "model-1")
    return inbox


@dg.op
def scoring_that_fails() -> None:
    raise RuntimeError("the store did not answer")


@dg.job
def failing_scoring() -> None:
    scoring_that_fails()


def test_a_failed_scoring_is_retried_then_reported(tmp_path, monkeypatch):
    """A failed batch_predictions run records no materialization: the same request again would have the
    same run key, which the daemon drops, and the inbox would stay unscored until a file changed."""
    inbox = scored_setup(tmp_path, monkeypatch)
    with dg.instance_for_test() as instance:
        report(instance, "production_model")
        keys = []
        for _ in range(MAX_ATTEMPTS):
            request = evaluate(instance)
            assert isinstance(request, dg.RunRequest) and request.run_key not in keys
            keys.append(request.run_key)
            failing_scoring.execute_in_process(instance=instance, tags=request.tags, raise_on_error=False)
        skipped = evaluate(instance)
        assert isinstance(skipped, dg.SkipReason)
        assert f"failed {MAX_ATTEMPTS} times" in skipped.skip_message
        (inbox / "b.txt").write_text("my card was charged twice\n")  # another inbox: tried afresh
        assert isinstance(evaluate(instance), dg.RunRequest)


def test_an_emptied_inbox_is_scored_empty(tmp_path, monkeypatch):
    """Predictions of files that are gone must not stay the latest batch_predictions."""
    inbox = scored_setup(tmp_path, monkeypatch)
    with dg.instance_for_test() as instance:
        report(instance, "production_model")
        report(instance, "batch_predictions", f"{inbox_version(inbox)}-model-1")
        (inbox / "a.txt").unlink()
        assert isinstance(evaluate(instance), dg.RunRequest)
        report(instance, "batch_predictions", f"{inbox_version(inbox)}-model-1")
        assert "already scored" in evaluate(instance).skip_message
