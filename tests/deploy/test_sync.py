"""ft-sync fetches the production bundle from a real S3 server and trusts only verified bytes."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import fsspec
import pytest
from ft_serving import sync
from ft_serving.production import POINTER_PATH, ProductionPointer, bundle_path

from tests.deploy.conftest import BUCKET
from tests.deploy.servers import S3Server

FILES = {"model.onnx": b"graph bytes", "labels.json": b'{"0": "a", "1": "b"}', "report.json": b"{}"}


@pytest.fixture
def remote_root(s3_env: S3Server) -> str:
    """An artifact root on the S3 server with one promoted bundle and its pointer."""
    root = f"s3://{BUCKET}/sync-{uuid.uuid4().hex[:8]}"
    publish(root, "v1", FILES)
    return root


def publish(
    root: str, version: str, files: dict[str, bytes], claimed: dict[str, bytes] | None = None
) -> None:
    fs, _ = fsspec.core.url_to_fs(root, skip_instance_cache=True)
    fs.makedirs(f"{root}/{bundle_path(version)}", exist_ok=True)  # a no-op on S3
    for name, data in files.items():
        fs.pipe_file(f"{root}/{bundle_path(version)}/{name}", data)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in (claimed or files).items()}
    pointer = ProductionPointer(version, bundle_path(version), "2026-01-01T00:00:00+00:00", digests)
    fs.pipe_file(f"{root}/{POINTER_PATH}", pointer.to_json())


def test_the_production_bundle_is_fetched_verified_and_then_reused(remote_root, tmp_path):
    folder = sync.production_bundle(remote_root, tmp_path / "cache")
    assert folder == tmp_path / "cache" / "v1"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == FILES
    # Immutable versions: a verified copy is reused even when the store is unreachable.
    fs, _ = fsspec.core.url_to_fs(remote_root, skip_instance_cache=True)
    fs.rm(f"{remote_root}/{bundle_path('v1')}", recursive=True)
    assert sync.production_bundle(remote_root, tmp_path / "cache") == folder


def test_a_promotion_is_followed(remote_root, tmp_path):
    sync.production_bundle(remote_root, tmp_path / "cache")
    publish(remote_root, "v2", {**FILES, "model.onnx": b"new graph"})
    folder = sync.production_bundle(remote_root, tmp_path / "cache")
    assert folder.name == "v2"
    assert (folder / "model.onnx").read_bytes() == b"new graph"


def test_bytes_that_differ_from_the_pointer_are_refused_and_not_cached(s3_env, tmp_path):
    root = f"s3://{BUCKET}/sync-{uuid.uuid4().hex[:8]}"
    publish(root, "v1", {**FILES, "model.onnx": b"tampered"}, claimed=FILES)
    with pytest.raises(sync.SyncError, match=r"bundle v1 fetched corrupt: model.onnx: checksum mismatch"):
        sync.production_bundle(root, tmp_path / "cache")
    assert not any((tmp_path / "cache").iterdir())


def test_a_damaged_cached_copy_is_fetched_again(remote_root, tmp_path):
    folder = sync.production_bundle(remote_root, tmp_path / "cache")
    (folder / "model.onnx").write_bytes(b"bit rot")
    assert (
        sync.production_bundle(remote_root, tmp_path / "cache") / "model.onnx"
    ).read_bytes() == b"graph bytes"


def test_a_local_root_is_read_in_place(tmp_path):
    publish(str(tmp_path), "v1", FILES)
    assert sync.production_bundle(str(tmp_path), tmp_path / "cache") == tmp_path / bundle_path("v1")
    assert not (tmp_path / "cache").exists()


def test_a_local_bundle_that_differs_from_the_pointer_is_refused(tmp_path):
    """ft-predict and ft-serve read a local root in place: in place, not unchecked."""
    publish(str(tmp_path), "v1", {**FILES, "labels.json": b'{"0": "b", "1": "a"}'}, claimed=FILES)
    with pytest.raises(sync.SyncError, match=r"bundle v1 .*labels.json: checksum mismatch"):
        sync.production_bundle(str(tmp_path), tmp_path / "cache")
    (tmp_path / bundle_path("v1") / "report.json").unlink()
    with pytest.raises(sync.SyncError, match=r"report.json: missing"):
        sync.production_bundle(str(tmp_path), tmp_path / "cache")


def test_the_cli_prints_the_folder_or_one_line(remote_root, tmp_path, capsys):
    assert sync.main(["--root", remote_root, "--cache", str(tmp_path / "cache")]) == sync.EXIT_OK
    assert Path(capsys.readouterr().out.strip()) == tmp_path / "cache" / "v1"
    empty = f"s3://{BUCKET}/nothing-{uuid.uuid4().hex[:8]}"
    assert sync.main(["--root", empty, "--cache", str(tmp_path / "cache")]) == sync.EXIT_FAILED
    err = capsys.readouterr().err
    assert err.startswith("ft-sync: no production model") and err.count("\n") == 1
