"""The champion/challenger gate of production_model, its registry log, and the rollback command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest
from ft_serving.bundle import LABELS_FILE, REPORT_FILE
from ft_serving.production import POINTER_PATH
from ft_serving.spec import SPEC_FILE

from ft_assets.assets.production import PROMOTION_POOL, production_model
from ft_assets.promotion import rollback
from ft_assets.promotion.registry import Registry
from ft_resources.artifact_store import ArtifactStore
from tests.automation.conftest import materialize


def trained_manifest(chain, node: str = "onnx_model") -> dict:
    """What the chain's run wrote for `node` (not any materialization a test recorded since)."""
    [event] = chain.run.asset_materializations_for_node(node)
    return json.loads(Path(event.metadata["path"].value).read_text())


def bundle_copy(
    chain, name: str, version: str, rotate_labels: bool = False, data_version: str | None = None
) -> Path:
    """The trained ONNX folder under a new version; rotated labels make a same-graph, worse model, and
    `data_version` one trained on other data (by default the trained model's own)."""
    target = Path(shutil.copytree(trained_manifest(chain)["path"], chain.artifacts / "crafted" / name))
    labels = json.loads((target / LABELS_FILE).read_text())
    spec = json.loads((target / SPEC_FILE).read_text())
    if rotate_labels:
        names = list(labels.values())
        labels = dict(zip(labels, names[1:] + names[:1], strict=True))
        (target / LABELS_FILE).write_text(json.dumps(labels))
        spec["labels"] = list(labels.values())
    spec = {**spec, "model_version": version, "data_version": data_version or spec["data_version"]}
    (target / SPEC_FILE).write_text(json.dumps(spec))
    (target / REPORT_FILE).write_text(json.dumps({"model_version": version}))
    return target


def crown(chain, bundle: Path) -> None:
    """Make `bundle` the production champion through the registry, as a past promotion would have."""
    version = json.loads((bundle / REPORT_FILE).read_text())["model_version"]
    Registry(ArtifactStore(root=str(chain.artifacts))).publish(bundle, {"model_version": version})


def challenge_with(chain, bundle: Path | None = None, version: str | None = None) -> None:
    """Record onnx_model + evaluation_report materializations: the trained model's, or `bundle` posing
    as a new model (its report scored the same as the trained one; the gate re-scores it anyway)."""
    onnx, evaluation = trained_manifest(chain), trained_manifest(chain, "evaluation_report")
    if bundle is not None:
        onnx = {**onnx, "path": str(bundle), "model_version": version}
        evaluation = {**evaluation, "report": {**evaluation["report"], "model_version": version}}
    record(chain, "onnx_model", onnx)
    record(chain, "evaluation_report", evaluation)


def record(chain, key: str, manifest: dict) -> None:
    path = chain.artifacts / "crafted" / f"{key}-{uuid.uuid4().hex[:8]}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest))
    # Named by content, as onnx_model and evaluation_report name theirs: every challenger is new data.
    tags = {"dagster/data_version": path.stem}
    chain.instance.report_runless_asset_event(
        dg.AssetMaterialization(key, metadata={"path": str(path)}, tags=tags)
    )


def gate(chain, **config: object) -> dict:
    run = gate_run(chain, **config)
    assert run.success
    [event] = run.asset_materializations_for_node("production_model")
    return {name: value.value for name, value in event.metadata.items()}


def gate_run(chain, **config: object) -> dg.ExecuteInProcessResult:
    return materialize(
        chain.defs, chain.instance, ["production_model"], {"ops": {"production_model": {"config": config}}}
    )


def log(chain) -> list[dict]:
    return Registry(ArtifactStore(root=str(chain.artifacts))).entries()


def production_version(chain) -> str:
    return json.loads((chain.artifacts / "production" / REPORT_FILE).read_text())["model_version"]


def test_a_better_or_equal_challenger_is_promoted_and_logged(trained_chain):
    chain = trained_chain
    version = trained_manifest(chain)["model_version"]
    for champion, rotate in (("worse-champion", True), ("equal-champion", False)):
        # Trained on older data: a tie promotes the model of the newer data.
        crown(chain, bundle_copy(chain, champion, champion, rotate_labels=rotate, data_version="older"))
        challenge_with(chain)
        outcome = gate(chain)
        assert (outcome["decision"], outcome["champion_version"]) == ("promoted", champion)
        assert ">=" in outcome["reason"]
        assert production_version(chain) == version
        entry = log(chain)[-1]
        assert (entry["action"], entry["model_version"]) == ("promote", version)
        assert entry["champion_version"] == champion
        assert entry["challenger_score"] >= entry["champion_score"]
    assert entry["challenger_score"] == entry["champion_score"]  # the tie still promotes


def test_a_worse_challenger_is_rejected_unless_the_tolerance_allows_it(trained_chain):
    chain = trained_chain
    # Trained on older data (a tolerance lets a model of newer data in; see the same-data test below).
    version = "older-data-champion"
    crown(chain, bundle_copy(chain, "champion", version, data_version="older"))
    worse = bundle_copy(chain, "worse", "worse-challenger", rotate_labels=True)
    challenge_with(chain, worse, "worse-challenger")
    before = (chain.artifacts / "production" / LABELS_FILE).read_text()
    outcome = gate(chain)
    assert (outcome["decision"], outcome["production_version"]) == ("kept champion", version)
    assert outcome["challenger_macro_f1"] < outcome["champion_macro_f1"]
    assert (chain.artifacts / "production" / LABELS_FILE).read_text() == before
    entry = log(chain)[-1]
    assert (entry["action"], entry["model_version"], entry["champion_version"]) == (
        "reject",
        "worse-challenger",
        version,
    )
    assert "kept champion" in entry["reason"]
    assert gate(chain, tolerance=1.0)["decision"] == "promoted"
    assert production_version(chain) == "worse-challenger"
    challenge_with(chain)


def test_a_retrain_of_the_champions_data_must_be_strictly_better(trained_chain):
    """Same data, other weights (a GPU retrain, a time budget): a tie or a tolerance would switch
    production on every retrain or walk it down; only a strictly better model replaces the champion."""
    chain = trained_chain
    crown(chain, bundle_copy(chain, "same-data-champion", "same-data-champion"))
    challenge_with(chain)
    entries = len(log(chain))
    for tolerance in (0.0, 1.0):
        outcome = gate(chain, tolerance=tolerance)
        assert (outcome["decision"], outcome["production_version"]) == ("kept champion", "same-data-champion")
        assert "(same training data)" in outcome["reason"] and "strictly better" in outcome["reason"]
    assert [e["action"] for e in log(chain)[entries:]] == ["reject", "reject"]


def test_a_retrain_scored_on_newer_test_data_is_still_a_retrain(trained_chain):
    """What decides "same training data" is what each model was trained on (its bundle.json), not the
    dataset the challenger happened to be scored on: evaluation may score a model on a newer dataset."""
    chain = trained_chain
    trained_on = json.loads((Path(trained_manifest(chain)["path"]) / SPEC_FILE).read_text())["data_version"]
    crown(chain, bundle_copy(chain, "same-data-champion", "same-data-champion"))
    onnx, evaluation = trained_manifest(chain), trained_manifest(chain, "evaluation_report")
    record(chain, "onnx_model", onnx)
    record(
        chain,
        "evaluation_report",
        {**evaluation, "report": {**evaluation["report"], "data_version": "newer"}},
    )
    outcome = gate(chain, tolerance=1.0)
    assert (outcome["decision"], outcome["production_version"]) == ("kept champion", "same-data-champion")
    assert "(same training data)" in outcome["reason"]
    entry = log(chain)[-1]
    assert (entry["data_version"], entry["test_data_version"]) == (trained_on, "newer")


def test_a_kept_champion_keeps_the_data_version_of_production(trained_chain):
    """What is downstream of production_model (batch_predictions) re-runs when production changes, not
    whenever a challenger was judged: a rejected one leaves the data version as it was."""
    chain = trained_chain
    crown(chain, bundle_copy(chain, "champion", "steady-champion", data_version="older"))
    versions = []
    for name in ("worse-1", "worse-2"):
        challenge_with(chain, bundle_copy(chain, name, name, rotate_labels=True), name)
        run = gate_run(chain)
        assert run.success
        [event] = run.asset_materializations_for_node("production_model")
        assert event.metadata["decision"].value == "kept champion"
        versions.append(event.tags["dagster/data_version"])
    assert versions == ["steady-champion", "steady-champion"]


def test_a_rolled_back_model_is_not_promoted_again_unless_allowed(trained_chain):
    """After `make rollback` away from a model, the weekly retrain of unchanged data rebuilds the same
    bytes, so the same version: the gate must not undo the operator's rollback by itself."""
    chain = trained_chain
    version = trained_manifest(chain)["model_version"]
    crown(chain, bundle_copy(chain, "before-rollback", "before-rollback", data_version="older"))
    crown(chain, bundle_copy(chain, "rolled-back", version))
    Registry(ArtifactStore(root=str(chain.artifacts))).rollback("before-rollback")
    challenge_with(chain)
    outcome = gate(chain)
    assert (outcome["decision"], outcome["production_version"]) == ("kept champion", "before-rollback")
    assert "rolled back from by an operator" in outcome["reason"] and "allow_rolled_back" in outcome["reason"]
    outcome = gate(chain, allow_rolled_back=True)
    assert (outcome["decision"], outcome["production_version"]) == ("promoted", version)


def test_retraining_the_same_model_moves_nothing(trained_chain):
    chain = trained_chain
    version = trained_manifest(chain)["model_version"]
    crown(chain, bundle_copy(chain, "same", version))
    challenge_with(chain)
    entries = len(log(chain))
    outcome = gate(chain)
    assert (outcome["decision"], outcome["production_version"]) == ("already in production", version)
    assert len(log(chain)) == entries


def test_a_report_of_another_model_is_refused(trained_chain):
    chain = trained_chain
    challenge_with(chain, bundle_copy(chain, "stray", "stray-version"), "stray-version")
    record(chain, "evaluation_report", trained_manifest(chain, "evaluation_report"))
    entries = len(log(chain))
    run = gate_run(chain)
    assert not run.success
    assert "evaluation_report scored model" in str(run.get_step_failure_events()[0].event_specific_data.error)
    assert len(log(chain)) == entries
    challenge_with(chain)


def test_rollback_restores_an_earlier_version(trained_chain):
    chain = trained_chain
    crown(chain, bundle_copy(chain, "old", "old-version", rotate_labels=True))
    crown(chain, bundle_copy(chain, "new", "new-version"))
    env = {**os.environ, "FT_ARTIFACTS_DIR": str(chain.artifacts)}
    done = subprocess.run(
        [sys.executable, "-m", "ft_assets.promotion.rollback", "old-version"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "production is now model old-version" in done.stdout
    assert production_version(chain) == "old-version"
    restored = chain.artifacts / "production" / LABELS_FILE
    assert restored.read_text() == (chain.artifacts / "registry" / "old-version" / LABELS_FILE).read_text()
    assert log(chain)[-1]["action"] == "rollback"


def test_rollback_lists_the_registry_and_refuses_unknown_versions(trained_chain, capsys, monkeypatch):
    monkeypatch.setenv("FT_ARTIFACTS_DIR", str(trained_chain.artifacts))
    assert rollback.main([]) == 0
    *listed, current = capsys.readouterr().out.splitlines()
    assert len(listed) == len(log(trained_chain))
    assert current == f"production: {production_version(trained_chain)}"
    assert rollback.main(["never-promoted"]) == 2
    assert "never promoted" in capsys.readouterr().err


@pytest.fixture(autouse=True)
def _clean_crafted(trained_chain):
    yield
    shutil.rmtree(trained_chain.artifacts / "crafted", ignore_errors=True)


def test_a_lost_production_pointer_is_refused_not_replaced_by_any_challenger(trained_chain):
    chain = trained_chain
    crown(chain, bundle_copy(chain, "champion", "champion-version"))
    pointer = chain.artifacts / POINTER_PATH
    saved = pointer.read_bytes()
    pointer.unlink()
    entries = len(log(chain))
    try:
        worse = bundle_copy(chain, "worse", "worse-version", rotate_labels=True)
        challenge_with(chain, worse, "worse-version")
        run = gate_run(chain)
        assert not run.success
        error = str(run.get_step_failure_events()[0].event_specific_data.error)
        assert "records promoted model champion-version" in error
        assert "make rollback VERSION=champion-version" in error
        assert not pointer.exists() and len(log(chain)) == entries
    finally:
        pointer.write_bytes(saved)
        challenge_with(chain)


def test_production_model_runs_one_at_a_time():
    assert production_model.op.pool == PROMOTION_POOL


def test_a_champion_whose_archive_changed_is_not_scored(trained_chain):
    """The champion is scored from the bytes the pointer's checksums vouch for, or not at all: a label
    file swapped in the archive would make it score near 0 and hand production to any challenger."""
    chain = trained_chain
    version = trained_manifest(chain)["model_version"]
    crown(chain, bundle_copy(chain, "tampered-champion", "tampered-champion"))
    archive = chain.artifacts / "registry" / "tampered-champion"
    rotated = bundle_copy(chain, "rotated", "tampered-champion", rotate_labels=True)
    for name in (LABELS_FILE, SPEC_FILE):  # consistent with each other: the bundle still loads
        shutil.copyfile(rotated / name, archive / name)
    challenge_with(chain)
    entries = len(log(chain))
    run = gate_run(chain)
    assert not run.success
    error = str(run.get_step_failure_events()[0].event_specific_data.error)
    assert "tampered-champion" in error and f"{LABELS_FILE}: checksum mismatch" in error
    assert len(log(chain)) == entries
    assert production_version(chain) == "tampered-champion"
    crown(chain, bundle_copy(chain, "restored", version))  # leave a sound champion for the next test
