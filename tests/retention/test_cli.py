"""`python -m ft_assets.retention` (make prune): lists by default, deletes with --apply, exit 2 on refusal."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from ft_assets.retention.__main__ import main
from ft_resources.artifact_store import ArtifactStore
from tests.retention.test_plan import model


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FT_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return tmp_path


def test_lists_then_deletes(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ArtifactStore()
    with dg.DagsterInstance.get() as instance:
        model(store, instance, "v1")
        model(store, instance, "v2")
    assert main(["--keep", "1", "--min-age-hours", "0"]) == 0
    listed = capsys.readouterr().out
    assert "would delete" in listed and "fine_tuned_model/v1" in listed and "--apply" in listed
    assert store.exists("fine_tuned_model/v1")
    assert main(["--keep", "1", "--min-age-hours", "0", "--apply"]) == 0
    assert "deleted 2 entries" in capsys.readouterr().out
    assert not store.exists("fine_tuned_model/v1") and store.exists("fine_tuned_model/v2")


def test_a_refusal_exits_2_and_deletes_nothing(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ArtifactStore()
    with dg.instance_for_test() as elsewhere:  # not DAGSTER_HOME's instance
        model(store, elsewhere, "v1")
    assert main(["--min-age-hours", "0", "--apply"]) == 2
    assert "DAGSTER_HOME" in capsys.readouterr().err
    assert store.exists("fine_tuned_model/v1")
