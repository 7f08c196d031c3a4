"""The registry's log, pointer and rollback, on a local disk and on S3 (moto on loopback)."""

from __future__ import annotations

import json

import pytest
from ft_serving.production import POINTER_PATH, read_production_pointer

from ft_assets.promotion.registry import Registry, RegistryError
from ft_resources.artifact_store import ArtifactStore
from tests.promotion.bundles import fake_bundle


@pytest.fixture(params=["local", "s3"])
def registry(request: pytest.FixtureRequest, tmp_path) -> Registry:
    root = request.getfixturevalue("s3_root") if request.param == "s3" else str(tmp_path / "artifacts")
    return Registry(ArtifactStore(root=root, cache_dir=str(tmp_path / "cache")))


def test_promotions_rejections_and_rollbacks_are_logged_in_order_and_match_the_pointer(registry, tmp_path):
    root = registry.store.root
    assert registry.champion() is None
    registry.publish(fake_bundle(tmp_path / "b1", "v1"), {"model_version": "v1", "reason": "first"})
    registry.publish(fake_bundle(tmp_path / "b2", "v2"), {"model_version": "v2"})
    registry.record_rejection({"model_version": "v3", "reason": "worse"})
    registry.rollback("v1")
    log = [(e["action"], e["model_version"]) for e in registry.entries()]
    assert log == [("promote", "v1"), ("promote", "v2"), ("reject", "v3"), ("rollback", "v1")]
    pointer = read_production_pointer(root)
    assert (pointer.model_version, pointer.bundle) == ("v1", "registry/v1")
    assert pointer.entry == registry.entries()[-1]
    current, local = registry.champion()
    assert current == pointer
    assert (local / "report.json").read_text() == '{"model_version": "v1"}'
    assert registry.store.exists("production") == registry.store.is_local  # the symlink is local only


def test_rollback_refuses_unknown_versions_and_damaged_bundles(registry, tmp_path):
    registry.publish(fake_bundle(tmp_path / "b1", "v1"), {"model_version": "v1"})
    registry.publish(fake_bundle(tmp_path / "b2", "v2"), {"model_version": "v2"})
    with pytest.raises(ValueError, match="never promoted"):
        registry.rollback("v9")
    registry.store.write_bytes("registry/v1/model.onnx", b"flipped")
    with pytest.raises(ValueError, match=r"registry/v1 is damaged: model.onnx: checksum mismatch"):
        registry.rollback("v1")
    assert read_production_pointer(registry.store.root).model_version == "v2"


def test_promoting_a_damaged_archive_again_is_refused(registry, tmp_path):
    """Promotion, like rollback, switches only to archived bytes the log vouches for: otherwise the
    pointer would record the damage as the checksums, and every reader would then trust it."""
    registry.publish(fake_bundle(tmp_path / "b1", "v1"), {"model_version": "v1"})
    registry.publish(fake_bundle(tmp_path / "b2", "v2"), {"model_version": "v2"})
    registry.store.write_bytes("registry/v1/model.onnx", b"flipped")
    with pytest.raises(RegistryError, match=r"registry/v1 .*model.onnx: checksum mismatch"):
        registry.publish(fake_bundle(tmp_path / "b1-again", "v1"), {"model_version": "v1"})
    pointer = read_production_pointer(registry.store.root)
    assert pointer.model_version == "v2"
    assert [e["action"] for e in registry.entries()] == ["promote", "promote"]


def test_a_switch_is_refused_when_production_moved_since_the_decision(registry, tmp_path):
    """On an object store a rollback does not wait for the gate (no lock): the gate's switch must not
    overwrite production that moved while it decided against the old champion."""
    registry.publish(fake_bundle(tmp_path / "b1", "v1"), {"model_version": "v1"})
    registry.publish(fake_bundle(tmp_path / "b2", "v2"), {"model_version": "v2"})
    decided_against = registry.pointer()
    registry.rollback("v1")  # an operator, meanwhile
    with pytest.raises(RegistryError, match=r"production changed .* it was v2, now v1 \(rollback at"):
        registry.publish(
            fake_bundle(tmp_path / "b3", "v3"), {"model_version": "v3"}, expected=decided_against
        )
    assert read_production_pointer(registry.store.root).model_version == "v1"
    with pytest.raises(RegistryError, match="it was none, now v1"):
        registry.publish(fake_bundle(tmp_path / "b3", "v3"), {"model_version": "v3"}, expected=None)
    registry.publish(fake_bundle(tmp_path / "b3", "v3"), {"model_version": "v3"}, expected=registry.pointer())
    assert read_production_pointer(registry.store.root).model_version == "v3"


def test_a_version_rolled_back_from_is_known_until_promoted_again(registry, tmp_path):
    registry.publish(fake_bundle(tmp_path / "b1", "v1"), {"model_version": "v1"})
    registry.publish(fake_bundle(tmp_path / "b2", "v2"), {"model_version": "v2"})
    assert registry.rolled_back_from("v2") is None
    registry.rollback("v1")
    withdrawn = registry.rolled_back_from("v2")
    assert (withdrawn["action"], withdrawn["model_version"]) == ("rollback", "v1")
    assert registry.rolled_back_from("v1") is None
    registry.publish(fake_bundle(tmp_path / "b2", "v2"), {"model_version": "v2"})
    assert registry.rolled_back_from("v2") is None


def test_a_lost_pointer_with_promotions_on_record_is_an_error_not_a_first_model(registry, tmp_path):
    registry.publish(fake_bundle(tmp_path / "b1", "v1"), {"model_version": "v1"})
    fs_path = registry.store.uri(POINTER_PATH)
    registry.store._fs.rm_file(fs_path)
    with pytest.raises(RegistryError, match=r"records promoted model v1.*make rollback VERSION=v1"):
        registry.champion()
    registry.rollback("v1")
    assert registry.champion()[0].model_version == "v1"


def test_a_version_promoted_again_keeps_its_first_archived_copy_and_checksums(registry, tmp_path):
    first = fake_bundle(tmp_path / "first", "v1")
    registry.publish(first, {"model_version": "v1"})
    registry.publish(fake_bundle(tmp_path / "b2", "v2"), {"model_version": "v2"})
    again = fake_bundle(tmp_path / "again", "v1")
    (again / "MODEL_CARD.md").write_text("a card written for the second promotion")
    registry.publish(again, {"model_version": "v1"})
    assert not registry.store.exists("registry/v1/MODEL_CARD.md")  # immutable: the first copy serves
    registry.rollback("v2")
    registry.rollback("v1")  # the recorded checksums are the archived files', so this verifies
    assert read_production_pointer(registry.store.root).files == registry.entries()[-1]["files"]


def test_a_production_folder_of_the_older_layout_becomes_the_link(tmp_path):
    root = tmp_path / "artifacts"
    legacy = fake_bundle(root / "production", "legacy")  # a real folder, as earlier versions wrote it
    registry = Registry(ArtifactStore(root=str(root)))
    registry.publish(fake_bundle(tmp_path / "b1", "v1"), {"model_version": "v1"})
    assert legacy.is_symlink() and (legacy / "report.json").read_text() == '{"model_version": "v1"}'
    assert sorted(p.name for p in root.iterdir()) == ["production", "registry"]


def _older_layout(root, serving: str) -> Registry:
    """registry/promotions.json, registry/<version>/ and a production/ folder, as older versions left them."""
    for version in ("v1", "v2"):
        fake_bundle(root / "registry" / version, version)
    fake_bundle(root / "production", serving)
    log = [
        {"model_version": v, "action": "promote", "time": f"2026-01-0{i}"} for i, v in enumerate(["v1", "v2"])
    ]
    (root / "registry" / "promotions.json").write_text(json.dumps(log))
    return Registry(ArtifactStore(root=str(root)))


def test_an_older_layout_is_adopted_when_its_production_folder_is_the_last_promotion(tmp_path):
    registry = _older_layout(tmp_path / "artifacts", serving="v2")
    pointer, bundle = registry.champion()
    assert (pointer.model_version, bundle) == ("v2", tmp_path / "artifacts" / "registry" / "v2")
    assert (tmp_path / "artifacts" / "production").is_symlink()
    assert [e["action"] for e in registry.entries()] == ["promote", "promote", "adopt"]


def test_an_older_layout_that_disagrees_with_its_log_is_refused(tmp_path):
    registry = _older_layout(tmp_path / "artifacts", serving="v1")
    with pytest.raises(RegistryError, match="records promoted model v2"):
        registry.champion()
    assert not (tmp_path / "artifacts" / "production").is_symlink()


def test_a_link_left_on_the_old_model_by_a_killed_rollback_is_repaired_by_the_next_registry_write(
    tmp_path, monkeypatch
):
    """Killed between the pointer and the `production` link, a rollback leaves the link on the withdrawn
    model; a re-run that finds the model already in production, or retention, must put it right."""
    from tests.promotion.bundles import served_version

    root = tmp_path / "artifacts"
    registry = Registry(ArtifactStore(root=str(root)))
    for version in ("v1", "v2", "v3"):
        registry.publish(fake_bundle(tmp_path / version, version), {"model_version": version})

    point_symlink = ArtifactStore.point_symlink

    def killed(self, link, target):  # killed after the pointer write, as the link would move to `to`
        if not target.endswith(f"/{to}"):
            return point_symlink(self, link, target)
        raise KeyboardInterrupt("make rollback killed")

    to = "v2"
    monkeypatch.setattr(ArtifactStore, "point_symlink", killed)
    with pytest.raises(KeyboardInterrupt):
        registry.rollback(to)
    monkeypatch.undo()
    assert read_production_pointer(str(root)).model_version == "v2" and served_version(root) == "v3"
    registry.repair()  # what production_model does when its model is already in production
    assert served_version(root) == "v2"

    to = "v3"
    monkeypatch.setattr(ArtifactStore, "point_symlink", killed)
    with pytest.raises(KeyboardInterrupt):
        registry.rollback(to)
    monkeypatch.undo()
    assert registry.delete_bundle("v1", "the test's retention")
    assert served_version(root) == "v3"
