import dagster as dg

from ft_assets.assets.batch_predictions import inbox_version
from ft_assets.automation.inbox import inbox_sensor


def evaluate(instance):
    return inbox_sensor(dg.build_sensor_context(instance=instance))


def report(instance, key, data_version=None):
    tags = {"dagster/data_version": data_version} if data_version else None
    instance.report_runless_asset_event(dg.AssetMaterialization(key, tags=tags))


def test_inbox_sensor_scores_new_files_once(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("FT_INBOX_DIR", str(inbox))
    with dg.instance_for_test() as instance:
        assert isinstance(evaluate(instance), dg.SkipReason)  # empty inbox
        (inbox / "a.txt").write_text("where is my parcel\n")
        assert "no production model" in evaluate(instance).skip_message
        report(instance, "production_model")
        request = evaluate(instance)
        assert isinstance(request, dg.RunRequest)
        assert request.run_config["ops"]["batch_predictions"]["config"]["inbox_dir"] == str(inbox)
        report(instance, "batch_predictions", f"{inbox_version(inbox)}-model1")
        assert "already scored" in evaluate(instance).skip_message
        (inbox / "b.csv").write_text("text\nmy card was charged twice\n")
        assert isinstance(evaluate(instance), dg.RunRequest)
