"""A folder on an object store is there only once all of it is: writers cut off mid-upload, and retries.

An object store has no atomic multi-object write, so ArtifactStore writes a small marker object beside
each folder it uploads: "writing" before the first file, "complete" after the last. A writer killed
between the two is simulated by making the filesystem's file uploads fail part-way (the marker writes
are separate, single-object PUTs). fsspec's in-memory filesystem and S3 (moto on loopback) stand in
for the object store; a local root keeps its one-rename folders and needs no marker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import fsspec
import pytest
import s3fs
from datasets import load_from_disk
from fsspec.implementations.memory import MemoryFileSystem
from ft_serving.checksums import digest_folder
from ft_serving.production import read_production_pointer

from ft_assets.definitions import DATA_ASSETS
from ft_assets.promotion.registry import Registry, RegistryError
from ft_assets.resources import build_resources
from ft_resources.artifact_store import MARKER_SUFFIX, ArtifactStore, FolderState, IncompleteFolderError
from tests.assets.conftest import data_dir, data_run_config  # noqa: F401  (data_dir: a fixture)
from tests.promotion.bundles import fake_bundle


class WriterKilledError(Exception):
    """Stands in for the death of the writing process in the middle of an upload."""


def first_file_only() -> Callable[[str], bool]:
    landed: list[str] = []

    def lands(remote: str) -> bool:
        landed.append(remote)
        return len(landed) == 1

    return lands


@contextlib.contextmanager
def uploads_cut(lands: Callable[[str], bool]) -> Iterator[None]:
    """File uploads (fs.put, one PUT per file) land only where ``lands(remote path)`` says; the others fail.

    s3fs uploads a folder's files concurrently: a failing upload waits for those that land to finish,
    so the store holds them when the writer "dies", as it would after a real kill.
    """
    memory_put, s3_put = MemoryFileSystem.put_file, s3fs.S3FileSystem._put_file
    in_flight: list[str] = []

    def put_file(self, lpath, rpath, *args, **kwargs):
        if not lands(str(rpath)):
            raise WriterKilledError(rpath)
        return memory_put(self, lpath, rpath, *args, **kwargs)

    async def put_file_s3(self, lpath, rpath, *args, **kwargs):
        if not lands(str(rpath)):
            while in_flight:
                await asyncio.sleep(0.01)
            raise WriterKilledError(rpath)
        in_flight.append(rpath)
        try:
            return await s3_put(self, lpath, rpath, *args, **kwargs)
        finally:
            in_flight.remove(rpath)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MemoryFileSystem, "put_file", put_file)
        patch.setattr(s3fs.S3FileSystem, "_put_file", put_file_s3)
        yield


@pytest.fixture(params=["memory", "s3"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    root = request.getfixturevalue(f"{request.param}_root")
    return ArtifactStore(root=root, cache_dir=str(tmp_path / "cache"))


@pytest.fixture(params=["local", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    local = request.param == "local"
    root = str(tmp_path / "artifacts") if local else request.getfixturevalue(f"{request.param}_root")
    return ArtifactStore(root=root, cache_dir=str(tmp_path / "cache"))


def stored(store: ArtifactStore, rel: str) -> dict[str, bytes]:
    """Every object under ``rel`` on the store itself (no cache), by name relative to it."""
    fs, prefix = fsspec.core.url_to_fs(store.uri(rel))
    fs.invalidate_cache()
    return {str(p).removeprefix(prefix).lstrip("/"): fs.cat_file(p) for p in fs.find(prefix)}


def write_legacy(store: ArtifactStore, rel: str, files: dict[str, bytes]) -> None:
    """A folder as versions before the marker uploaded it: the objects and nothing else."""
    for name, data in files.items():
        store._fs.pipe_file(store.uri(f"{rel}/{name}"), data)


def unmark(store: ArtifactStore, rel: str) -> None:
    """Delete a folder's marker, leaving it as a version before markers would have uploaded it."""
    parent, _, name = rel.rpartition("/")
    store._fs.rm_file(store.uri(f"{parent}/.{name}{MARKER_SUFFIX}"))


def fill(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


FILES = {"a.bin": b"first", "b.bin": b"second", "sub/c.bin": b"third"}


def test_a_folder_cut_off_mid_upload_is_not_there_and_a_retry_writes_it_whole(remote):
    with (
        uploads_cut(first_file_only()),
        pytest.raises(WriterKilledError),
        remote.write_dir("ds/v1", replace=False) as staging,
    ):
        fill(staging, FILES)
    assert len(stored(remote, "ds/v1")) == 1  # what a killed writer leaves: some of the objects
    assert remote.folder_state("ds/v1") is FolderState.INCOMPLETE
    assert not remote.exists("ds/v1")
    with pytest.raises(IncompleteFolderError, match="ds/v1 is incomplete"):
        remote.local_path("ds/v1")
    # The retry (an immutable folder: replace=False) must not take the partial folder for the first copy.
    with remote.write_dir("ds/v1", replace=False) as staging:
        fill(staging, FILES)
    assert remote.exists("ds/v1") and remote.folder_state("ds/v1") is FolderState.COMPLETE
    assert stored(remote, "ds/v1") == FILES
    local = remote.local_path("ds/v1")
    assert {p.relative_to(local).as_posix(): p.read_bytes() for p in local.rglob("*") if p.is_file()} == FILES


def test_a_replacement_cut_off_mid_upload_is_refused_rather_than_read_mixed(remote):
    with remote.write_dir("model/v1") as staging:
        fill(staging, {"weights": b"old", "config": b"old"})
    with (
        uploads_cut(first_file_only()),
        pytest.raises(WriterKilledError),
        remote.write_dir("model/v1") as staging,
    ):
        fill(staging, {"weights": b"new", "config": b"new"})
    assert sorted(stored(remote, "model/v1").values()) == [b"new", b"old"]  # mixed on the store
    assert not remote.exists("model/v1")
    with pytest.raises(IncompleteFolderError):
        remote.local_path("model/v1", refresh=True)
    with remote.write_dir("model/v1") as staging:
        fill(staging, {"weights": b"new"})
    assert stored(remote, "model/v1") == {"weights": b"new"}
    assert (remote.local_path("model/v1", refresh=True) / "weights").read_bytes() == b"new"


def test_a_folder_holds_exactly_its_files_and_listings_show_no_marker(store):
    with store.write_dir("ds/v1") as staging:
        fill(staging, FILES)
    assert stored(store, "ds/v1") == FILES  # e2e: the bundle on S3 holds exactly the pointer's files
    assert store.listdir("ds") == ["v1"]
    assert store.folder_state("ds/v1") is FolderState.COMPLETE
    assert store.folder_state("ds/none") is FolderState.ABSENT
    if store.is_local:  # one rename publishes it: nothing beside the folder
        assert [p.name for p in Path(store.uri("ds")).iterdir()] == ["v1"]


def test_a_folder_uploaded_before_the_marker_existed_still_reads(remote):
    write_legacy(remote, "ds/old", FILES)
    assert remote.folder_state("ds/old") is FolderState.UNMARKED
    assert remote.exists("ds/old")
    local = remote.local_path("ds/old")
    assert (local / "sub" / "c.bin").read_bytes() == b"third"
    remote.mark_complete("ds/old")
    assert remote.folder_state("ds/old") is FolderState.COMPLETE
    assert stored(remote, "ds/old") == FILES


def test_an_unmarked_folder_with_a_key_climbing_out_of_it_is_refused_and_writes_nothing_outside(
    remote, tmp_path
):
    """Object keys are arbitrary strings: one holding '..' must not steer a download out of the cache."""
    target = tmp_path / "outside.txt"
    write_legacy(remote, "ds/old", {"a.bin": b"first"})
    climb = "../" * 12 + str(target).lstrip("/")
    remote._fs.pipe_file(remote.uri("ds/old") + "/" + climb, b"planted")
    with pytest.raises(IncompleteFolderError, match="ds/old holds an object whose name leaves the folder"):
        remote.local_path("ds/old")
    with pytest.raises(IncompleteFolderError, match="leaves the folder"):
        remote.mark_complete("ds/old")
    assert not target.exists()
    assert remote.folder_state("ds/old") is FolderState.UNMARKED


def test_a_promotion_cut_off_mid_archive_archives_the_whole_bundle_on_retry(remote, tmp_path):
    registry = Registry(remote)
    bundle = fake_bundle(tmp_path / "b1", "v1")
    (bundle / "MODEL_CARD.md").write_text("card")
    with uploads_cut(first_file_only()), pytest.raises(WriterKilledError):
        registry.publish(bundle, {"model_version": "v1"})
    assert registry.pointer() is None
    registry.publish(bundle, {"model_version": "v1"})
    pointer = read_production_pointer(remote.root)
    assert pointer.files == digest_folder(bundle)
    assert set(stored(remote, "registry/v1")) == set(pointer.files)


def test_an_archive_from_before_the_marker_is_kept_when_the_log_vouches_for_it(remote, tmp_path):
    registry = Registry(remote)
    first = fake_bundle(tmp_path / "first", "v1")
    registry.publish(first, {"model_version": "v1"})
    unmark(remote, "registry/v1")  # as an earlier version uploaded it
    registry.publish(fake_bundle(tmp_path / "b2", "v2"), {"model_version": "v2"})
    again = fake_bundle(tmp_path / "again", "v1")
    (again / "MODEL_CARD.md").write_text("a card written for the second promotion")
    registry.publish(again, {"model_version": "v1"})
    assert stored(remote, "registry/v1") == {p.name: p.read_bytes() for p in first.iterdir()}
    assert remote.folder_state("registry/v1") is FolderState.COMPLETE  # verified, then marked
    assert read_production_pointer(remote.root).files == digest_folder(first)


def test_a_partial_archive_from_before_the_marker_that_nothing_vouches_for_is_rewritten(remote, tmp_path):
    registry = Registry(remote)
    bundle = fake_bundle(tmp_path / "b1", "v1")
    # An earlier version was killed mid-upload and never switched to it: nothing in the log names it.
    write_legacy(remote, "registry/v1", {"model.onnx": (bundle / "model.onnx").read_bytes()})
    registry.publish(bundle, {"model_version": "v1"})
    assert read_production_pointer(remote.root).files == digest_folder(bundle)
    assert set(stored(remote, "registry/v1")) == {"model.onnx", "labels.json", "report.json"}


def test_a_damaged_archive_the_log_vouches_for_is_rewritten_only_with_the_same_bytes(remote, tmp_path):
    registry = Registry(remote)
    first = fake_bundle(tmp_path / "first", "v1")
    registry.publish(first, {"model_version": "v1"})
    registry.publish(fake_bundle(tmp_path / "b2", "v2"), {"model_version": "v2"})
    fs = remote._fs
    unmark(remote, "registry/v1")
    fs.rm_file(remote.uri("registry/v1/labels.json"))  # unmarked and short of a file the log lists
    other = fake_bundle(tmp_path / "other", "v1")
    (other / "report.json").write_text(json.dumps({"model_version": "v1", "rebuilt": True}))
    with pytest.raises(RegistryError, match=r"registry/v1.*checksums"):
        registry.publish(other, {"model_version": "v1"})
    assert read_production_pointer(remote.root).model_version == "v2"
    registry.publish(first, {"model_version": "v1"})  # the very bytes the log recorded: a repair
    assert read_production_pointer(remote.root).files == digest_folder(first)
    assert remote.folder_state("registry/v1") is FolderState.COMPLETE
    registry.rollback("v2")
    registry.rollback("v1")


def test_a_tokenized_dataset_cut_off_after_its_index_is_written_whole_by_the_next_run(
    memory_root: str,
    tiny_model_dir: Path,
    data_dir: Path,  # noqa: F811
    instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    resources = build_resources(memory_root, str(tiny_model_dir))
    store: ArtifactStore = resources["artifact_store"].model_copy(
        update={"cache_dir": str(tmp_path / "cache")}
    )
    resources["artifact_store"] = store
    run_config = data_run_config(data_dir)

    def run() -> dg.ExecuteInProcessResult:
        return dg.materialize(
            DATA_ASSETS, instance=instance, resources=resources, run_config=run_config, raise_on_error=False
        )

    # dataset_dict.json lands, the Arrow shards do not: the writer died in between.
    with uploads_cut(lambda remote: remote.endswith("/dataset_dict.json")):
        assert not run().success
    result = run()
    assert result.success
    manifest = store.read_json(
        str(result.asset_materializations_for_node("tokenized_dataset")[0].metadata["path"].value)
    )
    splits = load_from_disk(str(store.local_path(manifest["path"])))
    assert {name: len(splits[name]) for name in splits} == manifest["rows"]
