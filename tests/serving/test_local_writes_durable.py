"""A rename survives a power cut only once its folder's entry is on disk: the folder is fsynced after it.

Without that, the instance could record a published folder (or the production link could name a model)
whose rename the disk never got, while the staged copy is swept later as a dead writer's leftover.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ft_serving import local_writes


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths fsync was called on, in order."""
    calls: list[str] = []
    fsync = os.fsync

    def recording(fd: int) -> None:
        calls.append(str(Path(f"/proc/self/fd/{fd}").readlink()))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", recording)
    return calls


def test_a_file_write_syncs_the_file_then_its_folder(tmp_path: Path, synced: list[str]) -> None:
    local_writes.write_bytes(tmp_path / "pointer.json", b"{}")
    assert synced[-1] == str(tmp_path)
    assert any(".pointer.json." in path for path in synced[:-1])  # the bytes, before the rename


def test_a_published_folder_syncs_its_files_its_own_entries_and_its_parent(
    tmp_path: Path, synced: list[str]
) -> None:
    with local_writes.staged_dir(tmp_path / "bundle", replace=False) as staging:
        (staging / "sub").mkdir()
        (staging / "sub" / "model.onnx").write_bytes(b"x")
    assert synced[-1] == str(tmp_path)
    assert any(path.endswith("/sub/model.onnx") for path in synced)
    assert any(path.endswith("/sub") for path in synced)  # the folder's own entries, before the rename


def test_a_link_switch_and_a_removal_sync_their_folder(tmp_path: Path, synced: list[str]) -> None:
    (tmp_path / "v1").mkdir()
    local_writes.point_symlink(tmp_path / "production", tmp_path / "v1")
    assert synced[-1] == str(tmp_path)
    synced.clear()
    local_writes.remove(tmp_path / "v1")
    assert synced == [str(tmp_path)]
