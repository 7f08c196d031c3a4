"""ArtifactStore, the one atomic-write boundary, on a local disk and on S3 (moto on loopback)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from ft_serving.local_writes import temporary_sibling
from pydantic import ValidationError

from ft_resources.artifact_store import ArtifactStore, mask_credentials

FORK = multiprocessing.get_context("fork")


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    root = request.getfixturevalue("s3_root") if request.param == "s3" else str(tmp_path / "artifacts")
    return ArtifactStore(root=root, cache_dir=str(tmp_path / "cache"))


def test_bytes_and_json_round_trip(store):
    store.write_json("a/b.json", {"x": 1})
    store.write_bytes("a/c.bin", b"\0\1")
    assert store.read_json("a/b.json") == {"x": 1}
    assert store.read_bytes(store.uri("a/c.bin")) == b"\0\1"
    assert store.exists("a/b.json") and not store.exists("a/none.json")
    assert store.listdir("a") == ["b.json", "c.bin"]
    assert store.listdir("nothing") == []


def test_a_folder_is_published_whole_replaced_whole_or_not_at_all(store):
    with store.write_dir("model/v1") as staging:
        (staging / "weights").write_bytes(b"one")
        (staging / "old-only").write_bytes(b"x")
        (staging / "sub").mkdir()
        (staging / "sub" / "f").write_bytes(b"nested")
    with store.write_dir("model/v1") as staging:
        (staging / "weights").write_bytes(b"two")
    assert store.listdir("model/v1") == ["weights"]
    assert store.read_bytes("model/v1/weights") == b"two"
    with store.write_dir("model/v1", replace=False) as staging:
        (staging / "weights").write_bytes(b"three")
    assert store.read_bytes("model/v1/weights") == b"two"  # immutable: the first copy stays
    with pytest.raises(RuntimeError), store.write_dir("model/v2") as staging:
        (staging / "weights").write_bytes(b"half")
        raise RuntimeError("the writer failed")
    assert not store.exists("model/v2")
    local = store.local_path("model/v1")
    assert (local / "weights").read_bytes() == b"two"


def _by_content(folder: Path) -> str:
    return (folder / "weights").read_bytes().decode()


def test_a_folder_named_by_its_content_is_published_under_that_name(store):
    with store.write_named_dir("model", _by_content) as written:
        (written.path / "weights").write_bytes(b"one")
        if store.is_local:  # staged inside its parent, so a pod that sees only the root can write it
            assert written.path.parent == Path(store.uri("model"))
    assert written.rel == "model/one"
    assert store.listdir("model") == ["one"]
    assert store.read_bytes("model/one/weights") == b"one"
    with store.write_named_dir("model", _by_content) as again:
        (again.path / "weights").write_bytes(b"one")
    assert again.rel == "model/one" and store.listdir("model") == ["one"]
    with pytest.raises(RuntimeError), store.write_named_dir("model", _by_content) as failed:
        (failed.path / "weights").write_bytes(b"two")
        raise RuntimeError("the writer failed")
    assert failed.rel == "" and store.listdir("model") == ["one"]
    with (
        pytest.raises(ValueError, match="plain path segment"),
        store.write_named_dir("model", _by_content) as bad,
    ):
        (bad.path / "weights").write_bytes(b"../escape")
    assert store.listdir("model") == ["one"]
    if store.is_local:  # no staging folder is left beside the published one
        assert sorted(p.name for p in Path(store.uri("model")).iterdir()) == ["one"]


def test_nested_folders_round_trip_through_the_cache(store):
    with store.write_dir("ds") as staging:
        (staging / "train").mkdir()
        (staging / "train" / "data.arrow").write_bytes(b"rows")
    assert (store.local_path("ds") / "train" / "data.arrow").read_bytes() == b"rows"


def _write_killed_before_rename(root: str) -> None:
    def kill_at_rename(event: str, _args: tuple) -> None:
        if event == "os.rename":
            os.kill(os.getpid(), signal.SIGKILL)

    sys.addaudithook(kill_at_rename)
    store = ArtifactStore(root=root)
    with store.write_dir("asset/v2") as staging:
        (staging / "f").write_bytes(b"x")


def test_leftovers_of_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    store = ArtifactStore(root=str(tmp_path))
    store.write_bytes("asset/v1", b"1")
    proc = FORK.Process(target=_write_killed_before_rename, args=(str(tmp_path),))
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == -signal.SIGKILL
    assert [p.name for p in (tmp_path / "asset").iterdir() if p.name.startswith(".")]
    # A live writer's temporary file (this process) must survive the sweep.
    live = temporary_sibling(tmp_path / "asset" / "v3")
    live.write_bytes(b"in progress")
    store.write_bytes("asset/v4", b"4")
    assert sorted(p.name for p in (tmp_path / "asset").iterdir()) == sorted(["v1", "v4", live.name])


def test_mask_credentials_hides_a_uris_user_info():
    assert mask_credentials("https://user:secret@host/x") == "https://***@host/x"


# AWS secret keys hold "/" and "+"; pasted into a URI unencoded, the "/" ends the host part for a URI
# parser, but the secret is still in every message that names the root.
AWS_STYLE = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY+EXAMPLEKEY"


@pytest.mark.parametrize(
    "root",
    [
        f"s3://AKIAEXAMPLE:{AWS_STYLE}@bucket/prefix",
        f"s3://AKIAEXAMPLE:{AWS_STYLE.replace('/', '%2F')}@bucket/prefix",
        "s3://AKIAEXAMPLE:plain@bucket/prefix",
    ],
)
def test_a_secret_with_slashes_is_refused_and_masked_too(root):
    """The store refuses the root without repeating it; the serving tools, which read such a root
    from FT_ARTIFACTS_DIR, mask it in what they print, and in filesystem errors that drop the scheme."""
    secret = root.split(":", 2)[2].rsplit("@", 1)[0]
    with pytest.raises(ValidationError) as caught:
        ArtifactStore(root=root)
    assert secret not in str(caught.value) and "s3://***@bucket/prefix" in str(caught.value)
    assert (
        mask_credentials(f"{root}/registry/production.json")
        == "s3://***@bucket/prefix/registry/production.json"
    )
    message = f"NoSuchBucket: {root.removeprefix('s3://')}/registry/production.json"
    assert secret not in mask_credentials(message, root)


def test_an_at_sign_in_a_path_without_credentials_is_left_alone():
    assert mask_credentials("s3://bucket/prefix/file@2x.png") == "s3://bucket/prefix/file@2x.png"


def _poll(path: str, stop: float, results: multiprocessing.Queue) -> None:
    reads = misses = 0
    while time.monotonic() < stop:
        try:
            Path(path).read_bytes()
            reads += 1
        except OSError:
            misses += 1
    results.put((reads, misses))


def test_a_replaced_folder_is_never_missing_for_a_reader(tmp_path):
    store = ArtifactStore(root=str(tmp_path))
    with store.write_dir("asset/v1") as staging:
        (staging / "data").write_bytes(b"0")
    results = FORK.Queue()
    reader = FORK.Process(target=_poll, args=(store.uri("asset/v1/data"), time.monotonic() + 1.5, results))
    reader.start()
    writes = 0
    while reader.is_alive():
        writes += 1
        with store.write_dir("asset/v1") as staging:
            (staging / "data").write_bytes(str(writes).encode())
    reads, misses = results.get(timeout=10)
    assert writes > 20 and reads > 1000
    assert misses == 0
    assert [p.name for p in (tmp_path / "asset").iterdir()] == ["v1"]
