"""A throwaway project state for the UI test: tiny model, small data, artifacts and a Dagster instance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from ft_assets.definitions import ALL_ASSETS, ALL_CHECKS
from ft_assets.resources import build_resources
from tests.assets.conftest import make_rows, write_csv
from tests.conftest import TINY_MODEL_TRAINING, build_tiny_bert
from tests.ui.server import write_instance_yaml

# Short training: one epoch on 32-token texts; the ONNX gate compares and times a handful of texts.
FAST_OPS: dict[str, dict[str, Any]] = {
    "tokenized_dataset": {"max_length": 32},
    "fine_tuned_model": {"epochs": 1, **TINY_MODEL_TRAINING},
    "onnx_model": {"parity_texts": 8, "latency_texts": 4},
}


@dataclass(frozen=True)
class UiWorkspace:
    root: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "raw"

    @property
    def artifacts_dir(self) -> Path:
        return self.root / "artifacts"

    @property
    def model_dir(self) -> Path:
        return self.root / "tiny-bert"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    def env(self) -> dict[str, str]:
        """What `dagster dev` needs to see the same data, artifacts and base model as the test."""
        return {
            "FT_DATA_DIR": str(self.data_dir),
            "FT_ARTIFACTS_DIR": str(self.artifacts_dir),
            "FT_BASE_MODEL": str(self.model_dir),
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }

    def run_config(self) -> dict[str, Any]:
        ops = {"raw_examples": {"config": {"data_dir": str(self.data_dir)}}}
        ops.update({op: {"config": config} for op, config in FAST_OPS.items()})
        return {"ops": ops}


def prepare_workspace(root: Path) -> UiWorkspace:
    workspace = UiWorkspace(root)
    build_tiny_bert(workspace.model_dir)
    workspace.data_dir.mkdir(parents=True)
    write_csv(workspace.data_dir / "batch1.csv", make_rows(40, seed=1))
    write_instance_yaml(workspace.dagster_home)
    # Create the SQLite storages now: a booting server and the first run must not both create tables.
    dg.DagsterInstance.from_config(str(workspace.dagster_home)).dispose()
    return workspace


def materialize_all(workspace: UiWorkspace) -> dg.ExecuteInProcessResult:
    """Every asset and check, in process and recorded in the workspace's instance, as `make run` does.

    Its first step (raw_examples) lands within seconds, long before a booting `dagster dev` loads the
    code location and ticks new_data_sensor, which then finds the data version materialized and skips.
    """
    resources = build_resources(
        artifacts_root=str(workspace.artifacts_dir), base_model=str(workspace.model_dir)
    )
    with dg.DagsterInstance.from_config(str(workspace.dagster_home)) as instance:
        return dg.materialize(
            [*ALL_ASSETS, *ALL_CHECKS],
            instance=instance,
            resources=resources,
            run_config=workspace.run_config(),
            raise_on_error=False,
        )
