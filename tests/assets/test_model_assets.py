"""The whole graph on the tiny model: lineage, the report, the bundle, serving parity with evaluation."""

import json
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from ft_serving.predict_cli import main as ft_predict

from ft_assets.definitions import ALL_ASSETS
from ft_assets.export import PARITY_TOLERANCE
from ft_assets.resources import build_resources
from ft_resources.training_launcher import TrainingLauncher
from tests.assets.conftest import make_rows, write_csv
from tests.conftest import TINY_MODEL_TRAINING, build_tiny_bert

BUNDLE_FILES = {
    "model.onnx",
    "model.int8.onnx",
    "tokenizer.json",
    "tokenizer_config.json",
    "labels.json",
    "report.json",
    "MODEL_CARD.md",
    "bundle.json",
}
REPORT_KEYS = {
    "accuracy",
    "macro_f1",
    "macro_precision",
    "macro_recall",
    "per_class",
    "confusion_matrix",
    "n_test",
    "model_version",
    "data_version",
    "base_model",
}


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    root = tmp_path_factory.mktemp("graph")
    data = root / "raw"
    data.mkdir()
    write_csv(data / "batch.csv", make_rows(40))
    # Longer than tokenized_dataset's max_length (32): evaluation and serving must cut them the same way.
    long_rows = [
        {**r, "text": f"{r['text']} " + " and ".join([r["text"].split(": ")[1]] * 4)} for r in make_rows(8, 9)
    ]
    write_csv(data / "long.csv", long_rows)
    inbox = root / "inbox"
    inbox.mkdir()
    (inbox / "new.txt").write_text("my invoice is wrong\nwhere is the courier\n")
    # In process: a subprocess would spend most of this graph's time importing torch and transformers again.
    # The whole graph trains in a subprocess in test_masked_credentials and the PostgreSQL + S3 test.
    resources = build_resources(
        str(root / "artifacts"),
        str(build_tiny_bert(root / "tiny")),
        training_launcher=TrainingLauncher(mode="in_process"),
    )
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            ALL_ASSETS,
            instance=instance,
            resources=resources,
            run_config={
                "ops": {
                    "raw_examples": {"config": {"data_dir": str(data)}},
                    "tokenized_dataset": {"config": {"max_length": 32}},
                    "fine_tuned_model": {
                        "config": {"epochs": 2, "learning_rate": 5e-3, **TINY_MODEL_TRAINING}
                    },
                    "batch_predictions": {"config": {"inbox_dir": str(inbox)}},
                }
            },
        )
        assert result.success
        yield root, instance, result


def output(instance, key):
    event = instance.get_latest_materialization_event(dg.AssetKey(key))
    uri = event.asset_materialization.metadata["path"].value
    return pd.read_parquet(uri) if uri.endswith(".parquet") else json.loads(Path(uri).read_text())


def test_bundle_layout_and_report(graph):
    root, _instance, _ = graph
    bundle = root / "artifacts" / "production"
    assert {p.name for p in bundle.iterdir()} >= BUNDLE_FILES
    report = json.loads((bundle / "report.json").read_text())
    assert set(report) >= REPORT_KEYS
    labels = json.loads((bundle / "labels.json").read_text())
    assert list(labels.values()) == ["billing", "shipping", "technical"]
    assert len(report["confusion_matrix"]) == 3
    assert sum(map(sum, report["confusion_matrix"])) == report["n_test"]
    card = (bundle / "MODEL_CARD.md").read_text()
    assert report["model_version"] in card and report["data_version"] in card
    assert "Texts longer than 32 tokens (special tokens included) lose their end" in card
    spec = json.loads((bundle / "bundle.json").read_text())
    assert (spec["max_length"], spec["labels"], spec["model_version"]) == (
        32,
        ["billing", "shipping", "technical"],
        report["model_version"],
    )


def test_lineage_names_the_model_and_data_everywhere(graph):
    _, instance, _ = graph
    model = output(instance, "fine_tuned_model")
    tokenized = output(instance, "tokenized_dataset")
    report = output(instance, "evaluation_report")["report"]
    onnx = output(instance, "onnx_model")
    production = output(instance, "production_model")
    assert model["tokenized_version"] == tokenized["version"]
    assert (
        report["model_version"]
        == onnx["model_version"]
        == production["model_version"]
        == model["model_version"]
    )
    assert report["data_version"] == tokenized["data_version"] == model["data_version"]
    assert production["promoted"] and production["production_version"] == model["model_version"]


def test_evaluation_shows_images_and_baseline(graph):
    _, _, result = graph
    metadata = result.asset_materializations_for_node("evaluation_report")[0].metadata
    assert metadata["confusion_matrix"].value.startswith("![confusion matrix](data:image/png;base64,")
    assert metadata["training_curves"].value.startswith("![training curves](data:image/png;base64,")
    assert 0 < metadata["majority_baseline_accuracy"].value <= 1
    report = output(graph[1], "evaluation_report")["report"]
    assert metadata["tfidf_baseline_macro_f1"].value == round(report["lexical_baseline"]["macro_f1"], 4)
    margin = report["macro_f1"] - report["lexical_baseline"]["macro_f1"]
    assert metadata["margin_over_tfidf_macro_f1"].value == pytest.approx(margin, abs=1e-4)


def test_onnx_parity_and_int8_recorded(graph):
    _, instance, _ = graph
    onnx = output(instance, "onnx_model")
    assert onnx["parity_max_abs_diff"] <= PARITY_TOLERANCE
    assert onnx["sizes"]["model.int8.onnx"] < onnx["sizes"]["model.onnx"]
    assert {row["backend"] for row in onnx["latency"]} == {"torch", "onnx fp32", "onnx int8"}


def test_ft_predict_matches_the_evaluation(graph, tmp_path, capsys):
    root, instance, _ = graph
    evaluation = output(instance, "evaluation_report")
    predicted = pd.read_parquet(Path(evaluation["path"]) / "predictions.parquet")
    texts = tmp_path / "texts.jsonl"
    texts.write_text("".join(json.dumps({"text": t}) + "\n" for t in predicted["text"]))
    assert ft_predict(["--file", str(texts), "--model", str(root / "artifacts" / "production")]) == 0
    served = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["label"] for s in served] == predicted["predicted"].tolist()
    assert (
        max(abs(s["score"] - p) for s, p in zip(served, predicted["score"], strict=True)) < PARITY_TOLERANCE
    )
    assert any(s.get("truncated") for s in served)  # the test split holds texts longer than max_length


def test_batch_predictions_scores_the_inbox(graph):
    _, instance, _ = graph
    frame = output(instance, "batch_predictions")
    production = output(instance, "production_model")
    assert frame["text"].tolist() == ["my invoice is wrong", "where is the courier"]
    assert set(frame["label"]) <= {"billing", "shipping", "technical"}
    assert frame[["p_billing", "p_shipping", "p_technical"]].sum(axis=1).round(5).eq(1).all()
    assert frame["model_version"].eq(production["production_version"]).all()


def test_training_reports_through_pipes_and_the_card_names_the_method(graph):
    root, instance, result = graph
    event = instance.get_latest_materialization_event(dg.AssetKey("fine_tuned_model"))
    trained = {name: value.value for name, value in event.asset_materialization.metadata.items()}
    assert (trained["method"], trained["world_size"], trained["ranks_in_sync"]) == ("full", 1, True)
    # Every weight but the word-table rows of tokens the train split never uses.
    assert 0 < trained["trainable_parameters"] < trained["total_parameters"]
    assert "rows of tokens in the train split" in trained["method_detail"]
    assert trained["checkpoint_dir"].endswith(trained["training_key"])
    # The training process's progress lines reached the run's log through Pipes.
    lines = [record.user_message for record in instance.all_logs(result.run_id)]
    assert any(line.startswith("training for ") for line in lines)
    assert any(line.startswith("method full: ") for line in lines)
    card = (root / "artifacts" / "production" / "MODEL_CARD.md").read_text()
    assert f"Fine-tuning: `full`, {trained['trainable_parameters']:,} of" in card
