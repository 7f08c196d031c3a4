"""Retention on a real materialized graph: the older model goes, and the graph still runs on what is left."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ft_assets.assets.evaluation import evaluation_report
from ft_assets.assets.training import fine_tuned_model
from ft_assets.definitions import ALL_ASSETS, DATA_ASSETS
from ft_assets.resources import build_resources
from ft_assets.retention.plan import apply_plan, plan_retention
from ft_resources.accelerator import AcceleratorResource
from ft_resources.training_launcher import TrainingLauncher
from tests.assets.conftest import data_run_config, make_rows, write_csv
from tests.conftest import TINY_MODEL_TRAINING

KEYS = [key for asset in ALL_ASSETS for key in asset.keys]


def test_the_older_model_is_deleted_and_the_graph_still_runs(tmp_path: Path, tiny_model_dir: Path) -> None:
    data = tmp_path / "raw"
    data.mkdir()
    write_csv(data / "batch.csv", make_rows(40))
    resources = build_resources(
        str(tmp_path / "artifacts"),
        str(tiny_model_dir),
        accelerator=AcceleratorResource(device="cpu", precision="fp32"),
        training_launcher=TrainingLauncher(mode="in_process"),
    )
    store = resources["artifact_store"]
    model_assets = [fine_tuned_model, evaluation_report, *DATA_ASSETS]
    with dg.instance_for_test() as instance:
        assert dg.materialize(
            DATA_ASSETS, instance=instance, resources=resources, run_config=data_run_config(data)
        ).success

        def train(learning_rate: float) -> dict:
            config = {"epochs": 1, "learning_rate": learning_rate, **TINY_MODEL_TRAINING}
            result = dg.materialize(
                model_assets,
                selection=[fine_tuned_model],
                instance=instance,
                resources=resources,
                run_config={"ops": {"fine_tuned_model": {"config": config}}},
            )
            assert result.success
            return result.output_for_node("fine_tuned_model")

        first, second = train(5e-3), train(1e-2)
        assert first["model_version"] != second["model_version"]  # the premise
        plan = plan_retention(store, instance, KEYS, keep=1, min_age_seconds=0)
        deleted = {candidate.entry.rel for candidate in plan.delete}
        assert f"fine_tuned_model/{first['model_version']}" in deleted
        assert all(rel.startswith("fine_tuned_model/") for rel in deleted)
        kept = {entry.rel for entry in plan.kept}
        assert f"fine_tuned_model/{second['model_version']}" in kept
        assert store.relative(second["path"]) in kept
        # The tokenized dataset folder is named only inside the tokenized_dataset manifest.
        assert any(rel.startswith("tokenized_dataset/") and not rel.endswith(".json") for rel in kept)

        apply_plan(store, plan, instance)
        assert not Path(first["path"]).exists()
        assert dg.materialize(
            model_assets, selection=[evaluation_report], instance=instance, resources=resources
        ).success
