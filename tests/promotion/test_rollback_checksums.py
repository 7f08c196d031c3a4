"""A rollback must leave a pointer that lists checksums: remote ft-serve refuses one that lists none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ft_serving.production import read_production_pointer

from ft_assets.promotion.registry import LEGACY_LOG, LOG_DIR, Registry, RegistryError
from ft_resources.artifact_store import ArtifactStore
from tests.promotion.bundles import fake_bundle


def _registry(tmp_path: Path) -> Registry:
    return Registry(ArtifactStore(root=str(tmp_path / "artifacts"), cache_dir=str(tmp_path / "cache")))


def test_rolling_back_to_an_entry_without_checksums_is_refused_before_the_switch(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    fake_bundle(tmp_path / "artifacts" / "registry" / "v1", "v1")  # archived by an earlier version
    registry.store.write_json(
        f"{LOG_DIR}/20250101T000000000000Z-00000000.json",
        {"model_version": "v1", "action": "promote", "id": "20250101T000000000000Z-00000000", "time": "t0"},
    )
    registry.publish(fake_bundle(tmp_path / "b2", "v2"), {"model_version": "v2"})
    logged = len(registry.entries())
    with pytest.raises(
        RegistryError, match=r"model v1.*id 20250101T000000000000Z-00000000.*no file checksums.*checksums: v2"
    ):
        registry.rollback("v1")
    pointer = read_production_pointer(registry.store.root)
    assert pointer is not None and pointer.model_version == "v2" and pointer.files
    assert len(registry.entries()) == logged  # nothing switched, nothing logged


def test_a_legacy_promotion_is_refused_but_its_adoption_checksums_allow_the_rollback(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    for version in ("v1", "v2"):
        fake_bundle(root / "registry" / version, version)
    (root / "registry" / "promotions.json").write_text(
        json.dumps([{"model_version": "v1", "action": "promote", "time": "2026-01-01"}])
    )
    registry = _registry(tmp_path)
    assert registry.store.exists(LEGACY_LOG)
    with pytest.raises(RegistryError, match=r"model v1.*time 2026-01-01.*no file checksums.*checksums: none"):
        registry.rollback("v1")
    assert read_production_pointer(registry.store.root) is None

    # The older layout's production folder is adopted with the archive's checksums; those verify v1 later.
    fake_bundle(root / "production", "v1")
    assert registry.champion() is not None
    registry.publish(fake_bundle(tmp_path / "b2", "v2"), {"model_version": "v2"})
    registry.rollback("v1")
    pointer = read_production_pointer(registry.store.root)
    assert pointer is not None and pointer.model_version == "v1"
    assert set(pointer.files) == {"model.onnx", "labels.json", "report.json"}
