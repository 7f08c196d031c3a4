"""Retention deletes only what no recent materialization names, and refuses when it cannot tell.

Each test writes real artifacts through ArtifactStore (a local root, or S3 on loopback) and records
their materializations in a real Dagster instance, as the IO manager does.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from ft_serving.production import ProductionPointer

from ft_assets.retention.plan import RetentionError, apply_plan, plan_retention
from ft_resources.artifact_store import MARKER_SUFFIX, ArtifactStore, FolderState
from ft_resources.io_manager import PATH_KEY

MODEL, REPORT = dg.AssetKey("fine_tuned_model"), dg.AssetKey("evaluation_report")
ONNX = dg.AssetKey("onnx_model")
KEYS = [MODEL, REPORT, ONNX]


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    root = request.getfixturevalue("s3_root") if request.param == "s3" else str(tmp_path / "artifacts")
    return ArtifactStore(root=root, cache_dir=str(tmp_path / "cache"))


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def model(store: ArtifactStore, instance: dg.DagsterInstance, version: str) -> str:
    """A model folder and its manifest, materialized as fine_tuned_model does."""
    with store.write_dir(f"fine_tuned_model/{version}") as folder:
        (folder / "model.safetensors").write_bytes(version.encode() * 1000)
    manifest = f"fine_tuned_model/{version}-manifest.json"
    store.write_json(manifest, {"path": store.display(f"fine_tuned_model/{version}"), "version": version})
    record(instance, MODEL, store, manifest)
    return manifest


def folder_and_manifest(
    store: ArtifactStore, instance: dg.DagsterInstance, key: dg.AssetKey, name: str, **names: str
) -> str:
    """An asset folder and the manifest naming it (and any other paths), as onnx_model writes them."""
    folder = f"{key.path[0]}/{name}"
    with store.write_dir(folder) as staging:
        (staging / "file").write_bytes(name.encode())
    manifest = f"{folder}-manifest.json"
    paths = {field: store.display(rel) for field, rel in names.items()}
    store.write_json(manifest, {"path": store.display(folder), **paths})
    record(instance, key, store, manifest)
    return folder


def record(instance: dg.DagsterInstance, key: dg.AssetKey, store: ArtifactStore, rel: str) -> None:
    metadata = {PATH_KEY: dg.MetadataValue.path(store.display(rel))}
    instance.report_runless_asset_event(dg.AssetMaterialization(key, metadata=metadata))


def names(entries) -> set[str]:
    return {getattr(entry, "entry", entry).rel for entry in entries}


def test_only_what_no_recent_materialization_names_is_deleted(store, instance):
    old, middle, new = (model(store, instance, v) for v in ("v1", "v2", "v3"))
    plan = plan_retention(store, instance, KEYS, keep=2, min_age_seconds=0)
    assert names(plan.delete) == {"fine_tuned_model/v1", old}
    assert {"fine_tuned_model/v2", middle, "fine_tuned_model/v3", new} <= names(plan.kept)
    assert plan.bytes_freed >= 2000
    apply_plan(store, plan, instance)
    assert store.folder_state("fine_tuned_model/v1") is FolderState.ABSENT
    assert not store.exists(old)
    assert store.local_path("fine_tuned_model/v3").joinpath("model.safetensors").read_bytes() == b"v3" * 1000
    # Nothing of the deleted folder is left behind, its marker included.
    left = {"fine_tuned_model/v2", middle, "fine_tuned_model/v3", new}
    assert names(store.entries("fine_tuned_model")) == left
    assert plan_retention(store, instance, KEYS, keep=2, min_age_seconds=0).delete == []


def test_an_older_report_that_a_kept_onnx_manifest_names_is_kept(store, instance):
    first = folder_and_manifest(store, instance, REPORT, "r1")
    folder_and_manifest(store, instance, ONNX, "o1", evaluation_path=first)  # still names r1
    folder_and_manifest(store, instance, REPORT, "r2")
    plan = plan_retention(store, instance, KEYS, keep=1, min_age_seconds=0)
    # r1's own manifest is superseded; the folder the latest ONNX manifest names is not.
    assert names(plan.delete) == {"evaluation_report/r1-manifest.json"}
    assert "evaluation_report/r1" in names(plan.kept)


def test_recent_entries_are_kept_whatever_names_them(store, instance):
    model(store, instance, "v1")
    model(store, instance, "v2")
    plan = plan_retention(store, instance, KEYS, keep=1, min_age_seconds=3600)
    assert plan.delete == []
    assert "fine_tuned_model/v1" in names(plan.too_recent)


def test_entries_no_materialization_names_are_kept_unless_asked_and_other_folders_never_looked_at(
    store, instance
):
    model(store, instance, "v1")
    with store.write_dir("fine_tuned_model/orphan") as folder:  # a run that failed after writing
        (folder / "weights").write_bytes(b"x")
    store.write_json("checkpoints/key/state.json", {})
    store.write_json("elsewhere/file.json", {})
    plan = plan_retention(store, instance, KEYS, keep=1, min_age_seconds=0)
    assert plan.delete == [] and names(plan.unknown) == {"fine_tuned_model/orphan"}
    plan = plan_retention(store, instance, KEYS, keep=1, min_age_seconds=0, include_unknown=True)
    assert names(plan.delete) == {"fine_tuned_model/orphan"}
    apply_plan(store, plan, instance)
    assert store.exists("checkpoints/key/state.json") and store.exists("elsewhere/file.json")
    assert not store.exists("fine_tuned_model/orphan")


def test_another_instances_writes_are_never_deleted(store, instance):
    """A DAGSTER_HOME that wrote this root once (a developer's) and another that kept writing to it."""
    model(store, instance, "v1")
    with dg.instance_for_test() as production:
        model(store, production, "v2")
        model(store, production, "v3")
    plan = plan_retention(store, instance, KEYS, keep=1, min_age_seconds=0)
    assert plan.delete == []
    assert {"fine_tuned_model/v2", "fine_tuned_model/v3"} <= names(plan.unknown)


def test_an_instance_that_did_not_write_this_root_is_refused(store, instance):
    model(store, instance, "v1")
    with dg.instance_for_test() as other, pytest.raises(RetentionError, match="DAGSTER_HOME"):
        plan_retention(store, other, KEYS, keep=1, min_age_seconds=0)
    assert store.exists("fine_tuned_model/v1")


def test_a_run_in_progress_stops_retention(store, instance):
    model(store, instance, "v1")
    model(store, instance, "v2")
    run = instance.add_run(dg.DagsterRun(job_name="__ASSET_JOB", status=dg.DagsterRunStatus.STARTED))
    with pytest.raises(RetentionError, match="in progress"):
        plan_retention(store, instance, KEYS, keep=1, min_age_seconds=0)
    # The retention run itself (as a Dagster job) does not count.
    plan = plan_retention(store, instance, KEYS, keep=1, min_age_seconds=0, own_run_id=run.run_id)
    assert "fine_tuned_model/v1" in names(plan.delete)


def test_keep_must_leave_the_latest(store, instance):
    with pytest.raises(RetentionError, match="at least 1"):
        plan_retention(store, instance, KEYS, keep=0, min_age_seconds=0)


def test_a_remote_folder_being_deleted_is_refused_by_readers(s3_root, tmp_path):
    store = ArtifactStore(root=s3_root, cache_dir=str(tmp_path / "cache"))
    with store.write_dir("fine_tuned_model/v1") as folder:
        (folder / "a").write_bytes(b"a")
    # What a retention run killed between its first and last request leaves: the marker says "deleting".
    store.write_bytes(f"fine_tuned_model/.v1{MARKER_SUFFIX}", json.dumps({"state": "deleting"}).encode())
    assert store.folder_state("fine_tuned_model/v1") is FolderState.INCOMPLETE
    assert [entry.rel for entry in store.entries("fine_tuned_model")] == ["fine_tuned_model/v1"]
    store.remove("fine_tuned_model/v1")
    assert store.entries("fine_tuned_model") == []


def test_a_run_that_starts_while_deleting_stops_the_deletions(store, instance):
    model(store, instance, "v1")
    model(store, instance, "v2")
    plan = plan_retention(store, instance, KEYS, keep=1, min_age_seconds=0)
    assert len(plan.delete) == 2
    # A run started after the plan may reuse a folder named by its content; nothing more is deleted.
    instance.add_run(dg.DagsterRun(job_name="__ASSET_JOB", status=dg.DagsterRunStatus.STARTING))
    with pytest.raises(RetentionError, match="stopped after 0 of 2 deletions"):
        apply_plan(store, plan, instance)
    assert store.exists("fine_tuned_model/v1")


def test_the_production_models_weights_are_kept(store, instance):
    model(store, instance, "v1")
    model(store, instance, "v2")
    pointer = ProductionPointer(model_version="v1", bundle="registry/v1", promoted_at="2026-12-01T00:00:00Z")
    store.write_bytes("registry/production.json", pointer.to_json())
    plan = plan_retention(store, instance, KEYS, keep=1, min_age_seconds=0)
    assert "fine_tuned_model/v1" in names(plan.kept)
    assert names(plan.delete) == {"fine_tuned_model/v1-manifest.json"}


def test_a_manifest_goes_no_sooner_than_the_folder_it_names(tmp_path, instance):
    store = ArtifactStore(root=str(tmp_path / "artifacts"))
    old = model(store, instance, "v1")
    model(store, instance, "v2")
    day_ago = time.time() - 86400
    os.utime(store.local_path(old), (day_ago, day_ago))  # the manifest is old, its folder is not
    plan = plan_retention(store, instance, KEYS, keep=1, min_age_seconds=3600)
    assert plan.delete == []
    assert names(plan.too_recent) == {"fine_tuned_model/v1", old}


def test_manifests_are_deleted_after_the_folders_they_name(store, instance):
    model(store, instance, "v1")
    model(store, instance, "v2")
    plan = plan_retention(store, instance, KEYS, keep=1, min_age_seconds=0)
    assert [c.entry.rel for c in plan.delete] == ["fine_tuned_model/v1", "fine_tuned_model/v1-manifest.json"]


def test_a_run_created_since_planning_stops_the_deletions_even_when_it_has_ended(store, instance):
    model(store, instance, "v1")
    model(store, instance, "v2")
    plan = plan_retention(store, instance, KEYS, keep=1, min_age_seconds=0)
    # A short run (batch_predictions, say) came and went; it may have reused an entry planned for deletion.
    instance.add_run(dg.DagsterRun(job_name="__ASSET_JOB", status=dg.DagsterRunStatus.SUCCESS))
    with pytest.raises(RetentionError, match="started since retention began"):
        apply_plan(store, plan, instance)
    assert store.exists("fine_tuned_model/v1")
