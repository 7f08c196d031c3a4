"""The production pointer names only files inside its bundle, and credentials of a root never reach a message.

Remote roots are fsspec's in-memory filesystem (``memory://``): remote to ft_serving, with no network.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import fsspec
import pytest
from ft_serving import sync
from ft_serving.production import (
    POINTER_PATH,
    ProductionError,
    ProductionPointer,
    bundle_path,
    location,
    read_production_pointer,
)

from tests.conftest import SECRET

GOOD = {"model.onnx": b"graph bytes", "labels.json": b'{"0": "a", "1": "b"}'}


def write_pointer(root: str, model_version: str, files: dict[str, bytes], bundle: str | None = None) -> None:
    """Store ``files`` under the bundle and a pointer listing their names, unchecked, as an attacker would."""
    rel = bundle or bundle_path("v1")
    fs, _ = fsspec.core.url_to_fs(root)
    for name, data in files.items():
        fs.pipe_file(fsspec.core.url_to_fs(f"{location(root, rel)}/{name}")[1], data)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    pointer = ProductionPointer(model_version, rel, "2026-01-01T00:00:00+00:00", digests)
    fs.pipe_file(fsspec.core.url_to_fs(location(root, POINTER_PATH))[1], pointer.to_json())


def pointer_json(files: dict[str, str], model_version: str = "v1") -> bytes:
    return ProductionPointer(model_version, bundle_path("v1"), "2026-01-01T00:00:00+00:00", files).to_json()


UNSAFE_NAMES = [
    "/etc/passwd",
    "../outside.txt",
    "sub/../../outside.txt",
    "sub/model.onnx",  # bundles are flat (publish copies top-level files only): no sub-folders
    "..",
    ".",
    "",
    "sub\\model.onnx",
    "model\x00.onnx",
]


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_a_pointer_naming_a_file_outside_its_bundle_is_refused(name):
    source = "/srv/artifacts/registry/production.json"
    with pytest.raises(ProductionError) as caught:
        ProductionPointer.from_json(pointer_json({"model.onnx": "ab", name: "cd"}), source)
    message = str(caught.value)
    assert message.startswith(f"{source}: ")
    assert repr(name) in message


@pytest.mark.parametrize("version", ["../victim", "a/b", "..", "."])
def test_a_pointer_whose_model_version_is_a_path_is_refused(version):
    with pytest.raises(ProductionError, match=r"^pointer\.json: 'model_version' must be"):
        ProductionPointer.from_json(pointer_json({"model.onnx": "ab"}, model_version=version), "pointer.json")


def test_a_checksum_must_be_a_string():
    raw = pointer_json({"model.onnx": "ab"}).replace(b'"ab"', b"[1]")
    with pytest.raises(ProductionError, match=r"'files'.*'model\.onnx'"):
        ProductionPointer.from_json(raw, "pointer.json")


def test_plain_names_of_a_real_bundle_are_accepted():
    names = ["bundle.json", "model.onnx", "model.int8.onnx", "tokenizer.json", "MODEL_CARD.md", "..hidden"]
    files = dict.fromkeys(names, "ab")
    assert ProductionPointer.from_json(pointer_json(files), "p").files == files


def test_sync_writes_nothing_outside_its_cache_for_a_traversing_pointer(memory_root, tmp_path):
    outside = tmp_path / "outside.txt"
    cache = tmp_path / "cache"
    write_pointer(memory_root, "v1", {**GOOD, "../../outside.txt": b"planted", str(outside): b"planted"})
    with pytest.raises(ProductionError, match=r"production\.json: 'files' may list only plain file names"):
        sync.production_bundle(memory_root, cache)
    assert not outside.exists()
    assert not cache.exists() or not any(cache.iterdir())


def test_sync_never_replaces_a_folder_outside_its_cache(memory_root, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    write_pointer(memory_root, "../victim", GOOD)
    with pytest.raises(ProductionError, match=r"'model_version' must be"):
        sync.production_bundle(memory_root, tmp_path / "cache")
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"]


def test_a_local_reader_never_hashes_files_outside_the_bundle(tmp_path):
    root, secret = tmp_path / "root", tmp_path / "secret.txt"
    secret.write_bytes(b"not for the pointer")
    (root / bundle_path("v1")).mkdir(parents=True)
    for name, data in GOOD.items():
        (root / bundle_path("v1") / name).write_bytes(data)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in GOOD.items()}
    (root / POINTER_PATH).write_bytes(pointer_json({**digests, str(secret): "ab"}))
    with pytest.raises(ProductionError, match=re.escape(repr(str(secret)))):
        read_production_pointer(str(root))


# Credentials in the artifact root -------------------------------------------------------------------


def test_mask_credentials_hides_user_info_in_uris_and_in_bare_paths_of_the_root():
    from ft_serving.production import mask_credentials

    root = f"s3://AKIAKEY:{SECRET}@bucket/prefix"
    assert mask_credentials(root) == "s3://***@bucket/prefix"
    assert mask_credentials(f"cannot read {root}/x: gone (see a@b)") == (
        "cannot read s3://***@bucket/prefix/x: gone (see a@b)"
    )
    # Filesystems drop the scheme from the paths in their own errors.
    bare = f"[Errno 2] AKIAKEY:{SECRET}@bucket/prefix/registry/v1/model.onnx"
    assert SECRET not in mask_credentials(bare, root)
    assert mask_credentials("s3://bucket/prefix", root) == "s3://bucket/prefix"


def test_an_unreadable_pointer_is_reported_without_credentials(credentialed_memory_root):
    fs, path = fsspec.core.url_to_fs(location(credentialed_memory_root, POINTER_PATH))
    fs.pipe_file(path, b"{not json")
    with pytest.raises(ProductionError) as caught:
        read_production_pointer(credentialed_memory_root)
    assert SECRET not in str(caught.value)
    assert "memory://***@" in str(caught.value)


def test_a_missing_pointer_is_reported_without_credentials(credentialed_memory_root, tmp_path):
    with pytest.raises(ProductionError) as caught:
        sync.production_bundle(credentialed_memory_root, tmp_path / "cache")
    assert SECRET not in str(caught.value)
    assert "no production model: memory://***@" in str(caught.value)


def test_an_incomplete_remote_bundle_is_reported_without_credentials(credentialed_memory_root, tmp_path):
    write_pointer(credentialed_memory_root, "v1", GOOD)
    fs, path = fsspec.core.url_to_fs(f"{location(credentialed_memory_root, bundle_path('v1'))}/model.onnx")
    fs.rm(path)
    with pytest.raises(sync.SyncError, match="is incomplete on the store") as caught:
        sync.production_bundle(credentialed_memory_root, tmp_path / "cache")
    assert SECRET not in str(caught.value)


def test_the_happy_path_still_syncs_a_flat_bundle(memory_root, tmp_path):
    write_pointer(memory_root, "v1", GOOD)
    folder = sync.production_bundle(memory_root, tmp_path / "cache")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == GOOD
    assert isinstance(folder, Path)
