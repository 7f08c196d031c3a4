"""The production pointer's format and its readers."""

from __future__ import annotations

import json

import pytest
from ft_serving import sync
from ft_serving.production import (
    POINTER_PATH,
    ProductionError,
    ProductionPointer,
    bundle_path,
    read_production_pointer,
)


def write_pointer(root, **fields: object) -> None:
    path = root / POINTER_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fields))


def test_no_pointer_means_no_production_model(tmp_path):
    assert read_production_pointer(str(tmp_path)) is None
    with pytest.raises(ProductionError, match=r"no production model: .*registry/production.json"):
        sync.production_bundle(str(tmp_path))


def test_the_pointer_resolves_to_the_registry_bundle(tmp_path, monkeypatch):
    digest = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"  # sha256 of b"a"
    pointer = ProductionPointer("v1", bundle_path("v1"), "2026-01-01T00:00:00+00:00", {"model.onnx": digest})
    (tmp_path / "registry" / "v1").mkdir(parents=True)
    (tmp_path / "registry" / "v1" / "model.onnx").write_bytes(b"a")
    (tmp_path / POINTER_PATH).write_bytes(pointer.to_json())
    assert read_production_pointer(str(tmp_path)) == pointer
    assert sync.production_bundle(str(tmp_path)) == tmp_path / "registry" / "v1"
    monkeypatch.setenv("FT_ARTIFACTS_DIR", str(tmp_path))
    assert sync.production_bundle() == tmp_path / "registry" / "v1"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"model_version": "v1", "promoted_at": "t"}, "'bundle' must be a non-empty string"),
        (
            {"model_version": "v1", "bundle": "../../etc", "promoted_at": "t"},
            "must be a path under registry/",
        ),
        ({"model_version": "v1", "bundle": "/etc", "promoted_at": "t"}, "must be a path under registry/"),
        ({"model_version": "", "bundle": "registry/v1", "promoted_at": "t"}, "'model_version' must be"),
    ],
)
def test_a_bad_pointer_is_one_clear_error(tmp_path, fields, problem):
    write_pointer(tmp_path, **fields)
    with pytest.raises(ProductionError, match=problem) as caught:
        read_production_pointer(str(tmp_path))
    assert "registry/production.json" in str(caught.value)


def test_a_torn_pointer_is_reported_not_parsed(tmp_path):
    (tmp_path / "registry").mkdir()
    (tmp_path / POINTER_PATH).write_text('{"model_version": "v')
    with pytest.raises(ProductionError, match="not valid JSON"):
        read_production_pointer(str(tmp_path))


def test_version_names_cannot_leave_the_registry():
    for bad in ("", "..", "a/b"):
        with pytest.raises(ValueError, match="not a model version"):
            bundle_path(bad)
