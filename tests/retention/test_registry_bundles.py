"""Retention deletes the registry bundles of versions production no longer uses, never production's, and a
switch to a bundle while it is being deleted is refused on one side or the other (local root and S3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from ft_serving.production import read_production_pointer

from ft_assets.promotion import registry as registry_module
from ft_assets.promotion.registry import Registry, RegistryError
from ft_assets.retention.plan import RetentionError, apply_plan, plan_retention
from ft_resources.artifact_store import ArtifactStore, FolderState
from tests.promotion.bundles import fake_bundle
from tests.retention.test_plan import KEYS, names


@pytest.fixture(params=["local", "s3"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    root = request.getfixturevalue("s3_root") if request.param == "s3" else str(tmp_path / "artifacts")
    return Registry(ArtifactStore(root=root, cache_dir=str(tmp_path / "cache")))


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def promote(registry: Registry, tmp_path: Path, *versions: str) -> None:
    for version in versions:
        registry.publish(fake_bundle(tmp_path / f"b-{version}", version), {"model_version": version})


def state(registry: Registry, version: str) -> FolderState:
    return registry.store.folder_state(f"registry/{version}")


def test_bundles_beyond_the_latest_production_versions_go_and_are_logged(registry, instance, tmp_path):
    promote(registry, tmp_path, "v1", "v2", "v3", "v4")
    registry.rollback("v2")  # production switched to: v1, v2, v3, v4, v2
    plan = plan_retention(registry.store, instance, KEYS, keep=2, min_age_seconds=0)
    assert names(plan.delete) == {"registry/v1", "registry/v3"}
    assert {"registry/v2", "registry/v4"} <= names(plan.kept)
    assert not {"registry/production.json", "registry/log"} & (names(plan.kept) | names(plan.unknown))

    apply_plan(registry.store, plan, instance)
    assert [state(registry, v) for v in ("v1", "v2", "v3", "v4")] == [
        FolderState.ABSENT,
        FolderState.COMPLETE,
        FolderState.ABSENT,
        FolderState.COMPLETE,
    ]
    pruned = [e for e in registry.entries() if e["action"] == "prune"]
    assert sorted(e["model_version"] for e in pruned) == ["v1", "v3"]
    assert registry.champion()[0].model_version == "v2"
    with pytest.raises(ValueError, match=r"model version v1 was deleted by retention .* kept: v2, v4"):
        registry.rollback("v1")
    registry.rollback("v4")
    assert read_production_pointer(registry.store.root).model_version == "v4"


def test_production_recent_and_unlogged_bundles_stay(registry, instance, tmp_path):
    promote(registry, tmp_path, "v1", "v2")
    with registry.store.write_dir("registry/orphan") as staging:  # archived, then the writer died
        (staging / "model.onnx").write_bytes(b"x")
    assert names(plan_retention(registry.store, instance, KEYS, keep=1, min_age_seconds=3600).delete) == set()
    plan = plan_retention(registry.store, instance, KEYS, keep=1, min_age_seconds=0)
    assert names(plan.delete) == {"registry/v1"} and names(plan.unknown) == {"registry/orphan"}
    assert "registry/v2" in names(plan.kept)
    everything = plan_retention(
        registry.store, instance, KEYS, keep=1, min_age_seconds=0, include_unknown=True
    )
    assert names(everything.delete) == {"registry/v1", "registry/orphan"}


def test_a_pruned_version_promoted_again_is_archived_afresh(registry, instance, tmp_path):
    promote(registry, tmp_path, "v1", "v2")
    apply_plan(
        registry.store, plan_retention(registry.store, instance, KEYS, keep=1, min_age_seconds=0), instance
    )
    assert state(registry, "v1") is FolderState.ABSENT
    # The same version retrained: other bytes (a new report), which no pruned log entry may vouch against.
    again = fake_bundle(tmp_path / "again", "v1", size=8192)
    registry.publish(again, {"model_version": "v1"})
    champion, local = registry.champion()
    assert champion.model_version == "v1" and (local / "model.onnx").stat().st_size == 8192
    registry.rollback("v2")
    registry.rollback("v1")  # archived again: rollback works once more


def test_production_switched_to_a_planned_bundle_keeps_it(registry, instance, tmp_path):
    promote(registry, tmp_path, "v1", "v2")
    plan = plan_retention(registry.store, instance, KEYS, keep=1, min_age_seconds=0)
    assert names(plan.delete) == {"registry/v1"}
    registry.rollback("v1")  # an operator, between planning and deleting
    with pytest.raises(RetentionError, match="production was switched to model v1 while retention ran"):
        apply_plan(registry.store, plan, instance)
    assert state(registry, "v1") is FolderState.COMPLETE
    assert registry.champion()[0].model_version == "v1"


@pytest.mark.parametrize("moment", ["after_verifying", "before_the_pointer_write"])
def test_a_rollback_whose_bundle_is_deleted_after_its_checks_is_refused(
    registry, tmp_path, monkeypatch, moment
):
    """Retention deletes the bundle after rollback verified it. Locally the lock orders retention before
    the switch, whose own check refuses; on an object store (no lock) retention may even land between that
    check and the pointer write, and the switch puts the pointer back."""
    if moment == "before_the_pointer_write" and registry.store.is_local:
        pytest.skip("locally the switch holds the lock there: retention cannot run at that moment")
    promote(registry, tmp_path, "v1", "v2")
    pruner = Registry(ArtifactStore(root=registry.store.root, cache_dir=str(tmp_path / "cache2")))
    store_type = type(registry.store)
    if moment == "after_verifying":
        check = registry_module.mismatches

        def verified_then_pruned(folder, files):
            problems = check(folder, files)
            pruner.delete_bundle("v1", "the test's retention")
            return problems

        monkeypatch.setattr(registry_module, "mismatches", verified_then_pruned)
    else:
        write_bytes = store_type.write_bytes

        def pruned_then_switched(self, rel, data):
            if rel == "registry/production.json" and b'"v1"' in data:
                pruner.delete_bundle("v1", "the test's retention")
            return write_bytes(self, rel, data)

        monkeypatch.setattr(store_type, "write_bytes", pruned_then_switched)
    with pytest.raises(RegistryError, match=r"registry/v1 of model v1 is being deleted or is gone"):
        registry.rollback("v1")
    assert read_production_pointer(registry.store.root).model_version == "v2"
    assert [e["action"] for e in registry.entries()] == ["promote", "promote", "prune"]


def test_a_deletion_killed_before_it_returns_is_logged_and_the_version_can_be_promoted_again(
    registry, tmp_path, monkeypatch
):
    """The log records a prune before anything is deleted: a retention killed part-way leaves a version
    the log calls pruned, never a bundle gone unrecorded (which rollback called damaged, and which made
    every later promotion of that version fail against the checksums logged for the deleted copy)."""
    promote(registry, tmp_path, "v1", "v2")
    remove = ArtifactStore.remove

    def killed_after_deleting(self, rel, **kwargs):
        remove(self, rel, **kwargs)
        raise KeyboardInterrupt("retention killed")

    monkeypatch.setattr(ArtifactStore, "remove", killed_after_deleting)
    with pytest.raises(KeyboardInterrupt):
        registry.delete_bundle("v1", "the test's retention")
    monkeypatch.undo()
    assert state(registry, "v1") is FolderState.ABSENT
    assert [e["action"] for e in registry.entries()] == ["promote", "promote", "prune"]
    with pytest.raises(ValueError, match="model version v1 was deleted by retention"):
        registry.rollback("v1")
    registry.publish(fake_bundle(tmp_path / "again", "v1", size=8192), {"model_version": "v1"})
    assert registry.champion()[0].model_version == "v1"
