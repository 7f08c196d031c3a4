"""A model version names the trained weights, not only what went into training.

Two trainings of the same data and config can end with different weights: another precision or device
(the accelerator is not training config), a time budget that stops at another step, GPU kernels that are
not bit-reproducible. If both carried one version, the second would overwrite the first's folder under
every manifest that names it, its report would describe weights production does not serve, and the gate
would call it "already in production" without scoring it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from ft_serving.checksums import digest_folder

from ft_assets.assets.training import fine_tuned_model
from ft_assets.automation.sensors import DATA_VERSION_TAG
from ft_assets.definitions import DATA_ASSETS
from ft_assets.resources import build_resources
from ft_resources.accelerator import AcceleratorResource
from ft_resources.training_launcher import TrainingLauncher
from tests.assets.conftest import data_run_config, make_rows, write_csv
from tests.conftest import TINY_MODEL_TRAINING

TRAINING = {"epochs": 1, "learning_rate": 5e-3, **TINY_MODEL_TRAINING}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Any:
    root = tmp_path_factory.mktemp("model-version")
    data = root / "raw"
    data.mkdir()
    write_csv(data / "batch.csv", make_rows(40))
    with dg.instance_for_test() as instance:

        def train(precision: str) -> dict[str, Any]:
            resources = build_resources(
                str(root / "artifacts"),
                str(tiny_model_dir),
                accelerator=AcceleratorResource(device="cpu", precision=precision),
                training_launcher=TrainingLauncher(mode="in_process"),
            )
            result = dg.materialize(
                [fine_tuned_model, *DATA_ASSETS],
                selection=[fine_tuned_model],
                instance=instance,
                resources=resources,
                run_config={"ops": {"fine_tuned_model": {"config": TRAINING}}},
            )
            assert result.success
            [event] = result.asset_materializations_for_node("fine_tuned_model")
            # What automation compares: a new model must look like new data to what is downstream of it.
            return {
                **result.output_for_node("fine_tuned_model"),
                "data_version": event.tags[DATA_VERSION_TAG],
            }

        data_resources = build_resources(str(root / "artifacts"), str(tiny_model_dir))
        assert dg.materialize(
            DATA_ASSETS, instance=instance, resources=data_resources, run_config=data_run_config(data)
        ).success
        yield train


def test_other_weights_get_another_version_and_keep_their_folder(trained) -> None:
    first = trained("fp32")
    first_files = digest_folder(Path(first["path"]))
    second = trained("bf16")
    second_files = digest_folder(Path(second["path"]))
    assert first_files["model.safetensors"] != second_files["model.safetensors"]  # the premise
    assert first["model_version"] != second["model_version"]
    assert first["path"] != second["path"]
    assert first["data_version"] != second["data_version"]
    # The first manifest still names the weights it was written with.
    assert digest_folder(Path(first["path"])) == first_files


def test_the_same_weights_keep_their_version(trained) -> None:
    """CPU training with a fixed seed and thread count is bit-reproducible here: same bytes, same version,
    so a retrain of unchanged data is "already in production" at the gate."""
    first = trained("fp32")
    again = trained("fp32")
    assert digest_folder(Path(again["path"])) == digest_folder(Path(first["path"]))
    assert again["model_version"] == first["model_version"]
    assert again["data_version"] == first["data_version"] == first["model_version"]
