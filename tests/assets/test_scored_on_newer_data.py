"""A model scored on a tokenized_dataset newer than the one it was trained on (new rows arrived, training
not re-run yet) is scored honestly: never on texts it trained on, and beside a lexical baseline fitted on
the very train split it learned from; the report names both data versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from datasets import load_from_disk

from ft_assets.definitions import ALL_ASSETS, DATA_ASSETS
from ft_assets.evaluation import fit_lexical_baseline, score_lexical_baseline
from ft_assets.resources import build_resources
from ft_resources.training_launcher import TrainingLauncher
from tests.assets.conftest import data_run_config, make_rows, write_csv
from tests.conftest import TINY_MODEL_TRAINING

DATA = [key.to_user_string() for asset in DATA_ASSETS for key in asset.keys]
TRAINED = [*DATA, "fine_tuned_model", "evaluation_report"]
SCORED = ["evaluation_report", "onnx_model"]
OPS = {
    "tokenized_dataset": {"max_length": 32},
    "fine_tuned_model": {"epochs": 1, "learning_rate": 5e-3, **TINY_MODEL_TRAINING},
    "onnx_model": {"parity_texts": 4, "latency_texts": 2},
}


class Graph:
    def __init__(self, root: Path, tiny_model_dir: Path, instance: dg.DagsterInstance) -> None:
        self.root, self.instance = root, instance
        self.data = root / "raw"
        self.data.mkdir()
        self.resources = build_resources(
            str(root / "artifacts"),
            str(tiny_model_dir),
            training_launcher=TrainingLauncher(mode="in_process"),
        )

    def materialize(self, selection: list[str], **ops: dict[str, Any]) -> dg.ExecuteInProcessResult:
        config = {op: settings for op, settings in {**OPS, **ops}.items() if op in selection}
        run_config = data_run_config(self.data, **config)
        if "raw_examples" not in selection:
            del run_config["ops"]["raw_examples"]
        return dg.materialize(
            ALL_ASSETS,
            selection=selection,
            instance=self.instance,
            resources=self.resources,
            run_config=run_config,
            raise_on_error=False,
        )

    def latest(self, key: str) -> dict[str, Any]:
        event = self.instance.get_latest_materialization_event(dg.AssetKey(key))
        return json.loads(Path(event.asset_materialization.metadata["path"].value).read_text())


@pytest.fixture
def graph(tmp_path: Path, tiny_model_dir: Path) -> Any:
    with dg.instance_for_test() as instance:
        graph = Graph(tmp_path, tiny_model_dir, instance)
        write_csv(graph.data / "batch1.csv", make_rows(20, seed=1))
        assert graph.materialize(TRAINED).success
        yield graph


def test_new_rows_are_scored_but_never_the_models_own_train_texts(graph):
    """One graph for both (each build trains a model): new rows are scored beside a baseline of the model's
    own train split; a re-salted split that puts its train texts in test is refused."""
    trained = graph.latest("fine_tuned_model")
    own = load_from_disk(graph.latest("tokenized_dataset")["path"])
    write_csv(graph.data / "batch2.csv", make_rows(20, seed=2, prefix="b2 "))
    assert graph.materialize(DATA).success
    newer = graph.latest("tokenized_dataset")
    assert newer["version"] != trained["tokenized_version"]
    assert graph.materialize(SCORED).success
    report = graph.latest("evaluation_report")["report"]
    assert report["data_version"] == trained["data_version"]
    assert report["test_data_version"] == newer["data_version"]
    test = load_from_disk(newer["path"])["test"]
    labels = newer["label_names"]
    expected = fit_lexical_baseline(
        own["train"]["text"],
        own["train"]["labels"],
        own["validation"]["text"],
        own["validation"]["labels"],
        test["text"],
        len(labels),
    )
    baseline = score_lexical_baseline(expected, test["labels"], labels, test["text"])
    assert report["lexical_baseline"]["macro_f1"] == pytest.approx(baseline.macro_f1)
    assert report["lexical_baseline"]["n_train"] == len(own["train"])

    # Then another split salt moves the model's train rows into test: scoring there would measure memory.
    assert graph.materialize(DATA, dataset_splits={"salt": "reshuffled"}).success
    for asset in SCORED:
        result = graph.materialize([asset])
        assert not result.success
        [failure] = result.get_step_failure_events()
        message = failure.step_failure_data.error.message
        assert "test texts" in message and "fine_tuned_model" in message and "trained on" in message, message
