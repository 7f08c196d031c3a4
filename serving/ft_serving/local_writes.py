"""Atomic writes on a local disk: the local half of the project's one atomic-write boundary.

The pipeline writes through ``ArtifactStore`` (ft_resources), which uses this module for local roots;
the Dagster-free serving package (ft-sync's cache) uses it directly. Nothing else renames into place.

A write goes to a temporary name beside its target and is renamed over it in one step, so a reader
sees the old or the new content, never a part. Temporary names carry this host and the writer's PID:
the next write into the same folder deletes those whose writer is gone (killed with kill -9, say)
and leaves a live writer's alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import functools
import hashlib
import os
import re
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # renameat2 flag: swap the two names in one step
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
_TEMPORARY = re.compile(r"^\..+\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{8}\.(?:tmp|old)$")


def temporary_sibling(target: Path, kind: str = "tmp") -> Path:
    return target.with_name(f".{target.name}.{_HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}.{kind}")


def sweep_stale(folder: Path) -> None:
    """Delete temporary files and folders in ``folder`` left by writers that died on this host."""
    try:
        names = [path.name for path in Path(folder).iterdir()]
    except FileNotFoundError:
        return
    for name in names:
        match = _TEMPORARY.match(name)
        if match and match["host"] == _HOST and not _alive(int(match["pid"])):
            _remove(folder / name)


def write_bytes(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target.parent)
    temporary = temporary_sibling(target)
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


@contextlib.contextmanager
def staged_dir(target: Path, *, replace: bool) -> Iterator[Path]:
    """Yield an empty folder beside ``target``; on success it becomes ``target`` by a rename.

    With ``replace=False`` an existing ``target`` wins (immutable, first writer's copy kept) and the
    staged copy is dropped. With ``replace=True`` the two folders are exchanged in one step where the
    kernel can (Linux renameat2); elsewhere the old folder is renamed aside first, and a reader may
    miss ``target`` for that instant.
    """
    with staging_dir(target.parent, target.name) as staging:
        yield staging
        publish_dir(staging, target, replace=replace)


@contextlib.contextmanager
def staging_dir(folder: Path, name: str) -> Iterator[Path]:
    """Yield an empty temporary folder in ``folder`` (named after ``name``, swept if its writer dies),
    removed afterwards unless it was renamed away (publish_dir)."""
    folder.mkdir(parents=True, exist_ok=True)
    sweep_stale(folder)
    staging = temporary_sibling(folder / name)
    staging.mkdir()
    try:
        yield staging
    finally:
        _remove(staging)


def publish_dir(staging: Path, target: Path, *, replace: bool) -> None:
    """Rename the finished folder ``staging`` to ``target`` on the same file system, as ``staged_dir``
    does on success; for a folder whose name is known only once it is written (named by its content)."""
    _fsync_tree(staging)
    if replace and target.exists():
        _swap_in(staging, target)
    else:
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():
                raise
            # Another writer published this immutable folder first; its copy stays.
    _fsync_dir(target.parent)


def remove(target: Path) -> None:
    """Delete a file or folder so that readers see it whole or not at all: it is renamed aside in one
    step, then deleted. A writer killed between the two leaves a temporary that the next write sweeps."""
    sweep_stale(target.parent)
    aside = temporary_sibling(target, "old")
    try:
        target.rename(aside)
    except FileNotFoundError:
        return
    _fsync_dir(target.parent)
    # Errors propagate (unlike _remove's): a caller that reports space freed must know it was not.
    if aside.is_dir() and not aside.is_symlink():
        shutil.rmtree(aside)
    else:
        aside.unlink()


def point_symlink(link: Path, target: Path) -> None:
    """Make ``link`` a relative symlink to ``target`` in one rename (a symlink swap)."""
    relative = os.path.relpath(target, link.parent)
    if link.is_symlink() and str(link.readlink()) == relative:
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(link.parent)
    temporary = temporary_sibling(link)
    temporary.symlink_to(relative)
    try:
        if link.is_dir() and not link.is_symlink():
            _swap_in(temporary, link)  # a real folder from an older layout
        else:
            temporary.replace(link)
    except BaseException:
        _remove(temporary)
        raise
    _fsync_dir(link.parent)


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if needed); released when a holder dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    function = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if function is not None:
        function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return function


def _swap_in(new: Path, folder: Path) -> None:
    """Put ``new`` where the existing ``folder`` is and delete the old folder: one exchange where the
    kernel can; elsewhere a rename cannot replace a non-empty folder, so it steps aside first."""
    if _exchange(new, folder):
        _remove(new)  # after the exchange this name holds the old folder
        return
    retired = temporary_sibling(folder, "old")
    folder.rename(retired)
    new.replace(folder)
    _remove(retired)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths atomically; False where the platform or filesystem cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _fsync_tree(folder: Path) -> None:
    """Every file's bytes and every folder's entries under ``folder``, itself included."""
    for path in [*folder.rglob("*"), folder]:
        if path.is_symlink():
            continue
        if path.is_dir():
            _fsync_dir(path)
        elif path.is_file():
            _fsync_path(path)


def _fsync_dir(folder: Path) -> None:
    """Put a folder's entries on disk: a rename in it survives a power cut only once this returns."""
    _fsync_path(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _fsync_path(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
