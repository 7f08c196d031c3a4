"""Cached artifacts and checkpoints are read back as trusted, so their temporary folders are private."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from ft_serving.locations import private_temp_dir

from ft_assets.assets.training import checkpoint_dir_for
from ft_resources.artifact_store import ArtifactStore


@pytest.fixture
def tmpdir_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_the_cache_and_the_checkpoints_of_a_remote_root_are_this_users_alone(tmpdir_here, memory_root):
    store = ArtifactStore(root=memory_root)
    cache = store._cache_root()
    checkpoints = checkpoint_dir_for(store, "key")
    for folder in (cache, checkpoints.parent):
        assert folder.parent == tmpdir_here and folder.name.endswith(f"-{os.getuid()}")
        assert folder.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("planted", ["writable by others", "another owner", "a link"])
def test_a_folder_planted_under_that_name_is_refused(tmpdir_here, planted):
    folder = tmpdir_here / f"ft-artifact-cache-{os.getuid()}"
    if planted == "a link":
        (tmpdir_here / "elsewhere").mkdir(mode=0o700)
        folder.symlink_to(tmpdir_here / "elsewhere")
    else:
        folder.mkdir(mode=0o700)
        if planted == "writable by others":
            folder.chmod(0o777)
        elif os.getuid() == 0:
            os.chown(folder, 65534, 65534)
        else:
            pytest.skip("only root can give a folder to another user")
    with pytest.raises(PermissionError, match="not a private folder of this user"):
        private_temp_dir("ft-artifact-cache")
