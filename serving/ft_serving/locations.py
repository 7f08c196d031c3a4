"""Where artifacts live: the one place that reads ``FT_ARTIFACTS_DIR``, shared with the Dagster side."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

ARTIFACTS_DIR_ENV = "FT_ARTIFACTS_DIR"


def artifacts_dir() -> str:
    return os.environ.get(ARTIFACTS_DIR_ENV, "artifacts")


def production_dir() -> Path:
    """The production bundle's folder, as the pointer names it (the CLI's default model).

    On an object-store root the bundle is first synced into the local cache, verified (ft_serving.sync).
    """
    from ft_serving.sync import production_bundle  # imports this module: import when called

    return production_bundle()


def private_temp_dir(name: str) -> Path:
    """``$TMPDIR/<name>-<uid>``, created for this user alone (mode 0700), for files read back as trusted:
    cached artifacts, training checkpoints. On a shared machine anyone may create a folder in /tmp, so one
    found there is used only when this user owns it and nobody else may write in it; otherwise
    PermissionError, before anything in it is read."""
    folder = Path(tempfile.gettempdir()) / f"{name}-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise PermissionError(
            f"{folder} is not a private folder of this user (a link, another owner, or writable by others); "
            "it may hold files someone else planted. Remove it, or set another temporary folder (TMPDIR)"
        )
    return folder
