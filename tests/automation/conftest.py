"""A real temporary instance, data folder and artifact root, and helpers that play the daemon's part."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import dagster as dg
import pytest

from ft_assets.definitions import ALL_ASSETS, SCHEDULES, SENSORS
from ft_assets.resources import build_resources
from ft_resources.settings import ARTIFACTS_DIR_ENV, DATA_DIR_ENV, INBOX_DIR_ENV
from ft_resources.training_launcher import TrainingLauncher
from tests.assets.conftest import make_rows, write_csv, write_jsonl

RAW = dg.AssetKey("raw_examples")
# Every asset of the project descends from raw_examples, so new data must reach all of them.
DOWNSTREAM = {key.to_user_string() for asset in ALL_ASSETS for key in asset.keys} - {"raw_examples"}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """FT_DATA_DIR with two batches, as the sensor and raw_examples' default config see it."""
    folder = tmp_path / "raw"
    folder.mkdir()
    write_csv(folder / "batch1.csv", make_rows(40, seed=1))
    write_jsonl(folder / "batch2.jsonl", make_rows(10, seed=2, prefix="b2 "))
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))
    return folder


@pytest.fixture
def defs(tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dg.Definitions:
    """The project's assets, sensors and schedules, with resources rooted in this test's folder."""
    artifacts = tmp_path / "artifacts"
    monkeypatch.setenv(ARTIFACTS_DIR_ENV, str(artifacts))
    monkeypatch.setenv(INBOX_DIR_ENV, str(tmp_path / "inbox"))
    resources = build_resources(artifacts_root=str(artifacts), base_model=str(tiny_model_dir))
    return dg.Definitions(assets=ALL_ASSETS, sensors=SENSORS, schedules=SCHEDULES, resources=resources)


def evaluate(
    defs: dg.Definitions, instance: dg.DagsterInstance, previous: object | None = None
) -> tuple[set[str], object]:
    """One tick of new_data_automation: (asset keys it would request, cursor for the next tick)."""
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=getattr(previous, "cursor", None)
    )
    keys = {key for asset in ALL_ASSETS for key in asset.keys if result.get_num_requested(key)}
    return {key.to_user_string() for key in keys}, result


def materialize(
    defs: dg.Definitions, instance: dg.DagsterInstance, keys: Iterable[str], run_config: dict | None = None
) -> dg.ExecuteInProcessResult:
    """Run what a sensor or the automation daemon would launch: exactly `keys`, against `instance`."""
    return dg.materialize(
        ALL_ASSETS,
        selection=[dg.AssetKey(key) for key in keys],
        instance=instance,
        resources=defs.resources,
        run_config=run_config,
        raise_on_error=False,
    )


@pytest.fixture(scope="package")
def trained_chain(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Iterator[object]:
    """A new batch carried through the whole graph once; the training step crashes and is retried."""
    from tests.automation.chain import run_chain

    root = tmp_path_factory.mktemp("chain")
    folder = root / "raw"
    folder.mkdir()
    write_csv(folder / "batch1.csv", make_rows(40, seed=1))
    write_jsonl(folder / "batch2.jsonl", make_rows(10, seed=2, prefix="b2 "))
    artifacts = root / "artifacts"
    with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as inst:
        mp.setenv(DATA_DIR_ENV, str(folder))
        mp.setenv(ARTIFACTS_DIR_ENV, str(artifacts))
        mp.setenv(INBOX_DIR_ENV, str(root / "inbox"))
        resources = build_resources(
            artifacts_root=str(artifacts),
            base_model=str(tiny_model_dir),
            training_launcher=TrainingLauncher(mode="in_process"),
        )
        chain_defs = dg.Definitions(assets=ALL_ASSETS, sensors=SENSORS, resources=resources)
        yield run_chain(chain_defs, inst, artifacts, mp)
