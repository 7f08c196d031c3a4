"""Artifact storage rooted at a local folder or any fsspec URI: the project's one atomic-write boundary.

Every artifact write goes through this resource. On a local disk a write is a temporary name plus a
rename (``local_writes``); on an object store each object is one PUT, which the store publishes
atomically. Object stores have no atomic multi-object write, so anything that must switch as a whole
(the production model) is a single small object naming immutable folders: see ft_serving.production.
A folder uploaded to an object store is complete only once its marker says so: a small object beside
it (``<parent>/.<name>.ft-folder.json``) written "writing" before the first file and "complete" after
the last, so a writer killed in between leaves a folder that ``exists`` denies, ``local_path`` refuses
and the next ``write_dir`` rewrites. Folders uploaded before markers existed have none; they are read
as before (``FolderState.UNMARKED``), since nothing tells a complete one from a partial one.
Endpoints and credentials come from the standard variables (``FSSPEC_S3_ENDPOINT_URL`` or
``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...) through fsspec; a root whose URI carries a password
(``user:pass@``) is refused, since Dagster keeps a resource's settings in its run records.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import dagster as dg
import fsspec
from fsspec.implementations.local import LocalFileSystem
from ft_serving import local_writes
from ft_serving.locations import private_temp_dir
from ft_serving.production import (  # one masking rule
    ProductionPointer,
    location,
    mask_credentials,
    refuse_password,
)
from ft_serving.spec import is_plain_name
from ft_serving.sync import verified_bundle
from pydantic import ConfigDict, Field, field_validator

from ft_resources import settings

MARKER_SUFFIX = ".ft-folder.json"  # the marker of folder <parent>/<name> is <parent>/.<name>.ft-folder.json
_WRITING, _COMPLETE, _DELETING = "writing", "complete", "deleting"


class FolderState(enum.Enum):
    """What a folder's marker (on an object store) says about it."""

    COMPLETE = "complete"  # published whole: locally by one rename, remotely by its marker
    INCOMPLETE = "incomplete"  # a remote write began and did not finish (killed, or still running)
    UNMARKED = "unmarked"  # remote objects without a marker: uploaded before markers existed
    ABSENT = "absent"


class IncompleteFolderError(FileNotFoundError):
    """A remote folder whose upload began and never finished: it must be written again, not read."""


@dataclasses.dataclass
class NamedFolder:
    """A folder being written by ``write_named_dir``: where to write, then where it was published."""

    path: Path
    rel: str = ""  # set once the folder is published: parent/<its name>


@dataclasses.dataclass(frozen=True)
class StoredEntry:
    """One file or folder directly under a folder of the store (``entries``)."""

    rel: str
    modified: float | None  # seconds since the epoch: the newest object's time, or the folder's marker's
    size: int  # bytes, the folder's files summed


class ArtifactStore(dg.ConfigurableResource):
    """Where every artifact lives. Paths given to its methods are relative to `root`."""

    root: str = Field(
        default_factory=settings.artifacts_dir,
        description="Local folder or fsspec URI (s3://bucket/prefix, gs://...) that holds all artifacts.",
    )
    cache_dir: str = Field(
        default="",
        description="Local folder that mirrors remote artifacts for tools that need real paths.",
    )

    # A refused root may hold a password: pydantic's error must not repeat the value it was given.
    model_config = ConfigDict(hide_input_in_errors=True)

    @field_validator("root")
    @classmethod
    def _no_password(cls, root: str) -> str:
        return refuse_password(root)

    @property
    def _fs(self) -> fsspec.AbstractFileSystem:
        fs, _ = fsspec.core.url_to_fs(self.root)
        return fs

    @property
    def is_local(self) -> bool:
        return isinstance(self._fs, LocalFileSystem)

    def uri(self, *parts: str) -> str:
        return location(self.root, "/".join(parts))

    def display(self, rel_or_uri: str) -> str:
        """The location with any credentials masked: what logs and metadata may show."""
        return mask_credentials(self._resolve(rel_or_uri))

    def exists(self, rel: str) -> bool:
        """Whether a file or folder is at ``rel``; a remote folder whose upload never finished is not."""
        return self.folder_state(rel) in (FolderState.COMPLETE, FolderState.UNMARKED)

    def folder_state(self, rel: str) -> FolderState:
        """Whether ``rel`` was published whole. Locally anything there was (folders appear by a rename);
        remotely its marker decides, and objects without one are ``UNMARKED`` (an older version's)."""
        uri = self.uri(rel)
        fs, path = fsspec.core.url_to_fs(uri)
        if not self.is_local:
            marker = self._read_marker(uri)
            if marker is not None:
                return FolderState.COMPLETE if marker.get("state") == _COMPLETE else FolderState.INCOMPLETE
        fs.invalidate_cache(path)  # another process may have written it since this one listed
        if not fs.exists(path):
            return FolderState.ABSENT
        return FolderState.COMPLETE if self.is_local else FolderState.UNMARKED

    def mark_complete(self, rel: str) -> None:
        """Mark a remote folder written before markers existed complete, once a caller has verified it."""
        if self.is_local:
            return
        uri = self.uri(rel)
        fs, prefix = fsspec.core.url_to_fs(uri)
        fs.invalidate_cache(prefix)
        self._write_marker(uri, _COMPLETE, _held_files(fs, prefix, uri))

    def listdir(self, rel: str) -> list[str]:
        """Names directly under ``rel`` (empty when it does not exist), sorted."""
        try:
            found = self._fs.ls(self.uri(rel), detail=False, refresh=True)
        except FileNotFoundError:
            return []
        names = (Path(str(item).rstrip("/")).name for item in found)
        return sorted(name for name in names if not _is_marker(name))

    def relative(self, rel_or_uri: str) -> str | None:
        """``rel_or_uri`` as a path relative to the root, or None when it points outside the root."""
        resolved = self._resolve(rel_or_uri)
        if self.is_local:
            # Paths are recorded as the root's absolute path joined with the entry (location()); compare
            # them unresolved first, so a symlinked folder inside the root still matches its entries.
            for path, root in (
                (Path(os.path.normpath(resolved)), Path(os.path.normpath(self.uri()))),
                (Path(resolved).resolve(), Path(self.uri()).resolve()),
            ):
                if path.is_relative_to(root):
                    return path.relative_to(root).as_posix()
            return None
        root = self.root.rstrip("/") + "/"
        return resolved.removeprefix(root) if resolved.startswith(root) else None

    def entries(self, rel: str) -> list[StoredEntry]:
        """The files and folders directly under ``rel``, with their age and size; temporaries and markers
        are not entries, but a remote folder whose marker is all that is left of it is one."""
        if self.is_local:
            folder = Path(self.uri(rel))
            if not folder.is_dir():
                return []
            found = []
            for path in sorted(folder.iterdir()):
                if path.name.startswith(".") or path.is_symlink():
                    continue
                files = [f for f in path.rglob("*") if f.is_file()] if path.is_dir() else [path]
                stats = [f.stat() for f in files]
                found.append(
                    StoredEntry(
                        f"{rel}/{path.name}",
                        max((st.st_mtime for st in stats), default=path.stat().st_mtime),
                        sum(st.st_size for st in stats),
                    )
                )
            return found
        fs, prefix = fsspec.core.url_to_fs(self.uri(rel))
        fs.invalidate_cache(prefix)
        try:
            objects = fs.find(prefix, detail=True)
        except FileNotFoundError:
            return []
        grouped: dict[str, list[dict[str, Any]]] = {}
        for path, info in objects.items():
            top, _, below = _relative(path, prefix).partition("/")
            name = top[1 : -len(MARKER_SUFFIX)] if not below and _is_marker(top) else top
            if name.startswith(".") or not name:
                continue
            grouped.setdefault(name, []).append({**info, "marker": name != top})
        found = []
        for name, infos in sorted(grouped.items()):
            markers = [info for info in infos if info["marker"]]
            times = [_timestamp(info) for info in (markers or infos)]
            found.append(
                StoredEntry(
                    f"{rel}/{name}",
                    max((t for t in times if t is not None), default=None),
                    sum(int(info.get("size") or 0) for info in infos if not info["marker"]),
                )
            )
        return found

    def remove(self, rel: str, *, claim: Callable[[], bool] | None = None) -> bool:
        """Delete the file or folder at ``rel`` so that no reader takes a part of it for the whole.

        Locally it is renamed aside in one step, then deleted. On an object store a folder's marker first
        says "deleting", which readers refuse as incomplete, then its objects go, the marker last.
        ``claim`` is asked once readers already refuse the folder and before anything is gone: when it
        says False the folder is left whole (marked complete again) and False is returned; when True it
        has recorded the deletion where it needs to, so a remover killed part-way leaves it on record. A
        writer that checks the folder after recording its use (as a registry switch does) and this check
        cannot both miss each other, with no lock on the store.
        """
        uri = self.uri(rel)
        if self.is_local:
            if claim is not None and not claim():
                return False
            local_writes.remove(Path(uri))
            return True
        fs, path = fsspec.core.url_to_fs(uri)
        fs.invalidate_cache(path)
        if fs.isdir(path) or self._read_marker(uri) is not None:
            self._write_marker(uri, _DELETING)
            if claim is not None and not claim():
                self.mark_complete(rel)
                return False
            if fs.exists(path):
                fs.rm(path, recursive=True)
            fs.rm_file(fsspec.core.url_to_fs(_marker_uri(uri))[1])
        elif claim is not None and not claim():
            return False
        elif fs.exists(path):
            fs.rm_file(path)
        return True

    def write_bytes(self, rel: str, data: bytes) -> str:
        target = self.uri(rel)
        if self.is_local:
            local_writes.write_bytes(Path(target), data)
        else:
            self._fs.pipe_file(target, data)
        return target

    def read_bytes(self, rel_or_uri: str) -> bytes:
        return self._fs.cat_file(self._resolve(rel_or_uri))

    def write_json(self, rel: str, obj: Any) -> str:
        return self.write_bytes(rel, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())

    def read_json(self, rel_or_uri: str) -> Any:
        return json.loads(self.read_bytes(rel_or_uri))

    @contextlib.contextmanager
    def write_dir(self, rel: str, *, replace: bool = True) -> Iterator[Path]:
        """Yield an empty local folder; on success its files are published at ``rel``.

        ``replace=False`` publishes only when no complete folder is at ``rel`` yet (immutable folders
        such as registry bundles). On failure nothing is published. Locally the folder appears in one
        rename; on an object store each file is one PUT, so folders there are named by content or
        version and made visible by a pointer object written last. There the marker beside the folder
        says "writing" from before the first PUT until "complete" after the last: a folder cut off
        part-way is not complete, so ``replace=False`` rewrites it, and a replacement cut off part-way
        (old and new files mixed) is refused by readers until a write finishes.
        """
        target = self.uri(rel)
        if self.is_local:
            with local_writes.staged_dir(Path(target), replace=replace) as staging:
                yield staging
            return
        with self._remote_staging(Path(rel).name) as staging:
            yield staging
            if replace or self.folder_state(rel) is not FolderState.COMPLETE:
                self._upload(staging, target)

    @contextlib.contextmanager
    def write_named_dir(self, parent: str, name_of: Callable[[Path], str]) -> Iterator[NamedFolder]:
        """Yield an empty local folder (``.path``) whose name is known only once it is written.

        On success ``name_of(folder)`` names it, it is published at ``parent/<name>`` and ``.rel`` says
        where. The name must come from the folder's content: a folder already complete under that name
        holds the same bytes, so it is kept and this copy dropped (``write_dir(replace=False)``). Locally
        the folder is staged inside ``parent``, so a process that can only see the artifacts root (a
        Kubernetes pod on the same volume) can write it, and it appears by one rename.
        """
        if self.is_local:
            staging_cm = local_writes.staging_dir(Path(self.uri(parent)), "new")
        else:
            staging_cm = self._remote_staging(Path(parent).name)
        with staging_cm as staging:
            named = NamedFolder(staging)
            yield named
            named.rel = f"{parent}/{_plain(name_of(staging))}"
            if self.is_local:
                local_writes.publish_dir(staging, Path(self.uri(named.rel)), replace=False)
            elif self.folder_state(named.rel) is not FolderState.COMPLETE:
                self._upload(staging, self.uri(named.rel))

    def point_symlink(self, rel_link: str, rel_target: str) -> None:
        """Locally, make ``rel_link`` a symlink to ``rel_target`` in one atomic swap.

        Object stores have no links; there the pointer object is the only switch.
        """
        if self.is_local:
            local_writes.point_symlink(Path(self.uri(rel_link)), Path(self.uri(rel_target)))

    @contextlib.contextmanager
    def lock(self, rel: str) -> Iterator[None]:
        """Serialise writers of one local root across processes.

        Object stores offer no lock; there a Dagster pool limits the writers (production_model).
        """
        if not self.is_local:
            yield
            return
        with local_writes.exclusive_lock(Path(self.uri(rel))):
            yield

    def local_path(self, rel_or_uri: str, *, refresh: bool = False) -> Path:
        """A local path for an artifact folder or file, downloading remote ones into the cache.

        Content-addressed and versioned artifacts never change, so a cached copy is reused; pass
        `refresh=True` for a location whose content may change. A remote folder whose upload never
        finished raises IncompleteFolderError; a complete one is fetched as its marker lists it.
        """
        uri = self._resolve(rel_or_uri)
        if self.is_local:
            return Path(uri)
        local = self._cache_root() / hashlib.sha256(uri.encode()).hexdigest()[:16] / Path(uri).name
        if refresh or not local.exists():
            marker = self._read_marker(uri)
            if marker is not None and marker.get("state") != _COMPLETE:
                raise IncompleteFolderError(
                    f"{mask_credentials(uri, self.root)} is incomplete: its upload began and did not finish "
                    "(killed, or still running); write it again, by materializing its asset again"
                )
            if marker is not None or self._fs.isdir(uri):
                names = _listed_files(marker, uri) if marker is not None else None
                with local_writes.staged_dir(local, replace=True) as staging:
                    self._download(uri, staging, names)
            else:
                local_writes.write_bytes(local, self._fs.cat_file(uri))
        return local

    def verified_bundle(self, pointer: ProductionPointer) -> Path:
        """A local copy of the bundle ``pointer`` names, every file checked against the pointer's SHA-256s
        (ft_serving.sync.verified_bundle, the one way from a pointer to bundle files); SyncError if not."""
        return verified_bundle(self.root, pointer, self._cache_root() / "bundles")

    def _resolve(self, rel_or_uri: str) -> str:
        masked_root = mask_credentials(self.root.rstrip("/"))
        if masked_root != self.root.rstrip("/") and rel_or_uri.startswith(masked_root):
            # Metadata holds masked URIs (a root may carry a user name); map them back onto the real root.
            return self.root.rstrip("/") + rel_or_uri[len(masked_root) :]
        if "://" in rel_or_uri or Path(rel_or_uri).is_absolute():
            return rel_or_uri
        return self.uri(rel_or_uri)

    def _cache_root(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else private_temp_dir("ft-artifact-cache")

    def _remote_staging(self, name: str) -> contextlib.AbstractContextManager[Path]:
        """A fresh local folder in the cache, removed afterwards, where a remote folder is put together."""
        return local_writes.staging_dir(self._cache_root() / "staging", name)

    def _upload(self, folder: Path, target: str) -> None:
        """The marker says "writing", every file is PUT, leftovers are deleted, the marker says "complete".

        A writer killed anywhere in between leaves the folder INCOMPLETE, whatever it held before.
        """
        fs, prefix = fsspec.core.url_to_fs(target)
        pairs = {path.relative_to(folder).as_posix(): path for path in folder.rglob("*") if path.is_file()}
        self._write_marker(target, _WRITING)
        fs.put([str(path) for path in pairs.values()], [f"{prefix}/{name}" for name in pairs])
        # Replacing, or retrying a write that was cut off: objects the new folder lacks go after the
        # new ones land, and before the marker says complete.
        fs.invalidate_cache(prefix)
        for remote in fs.find(prefix):
            if _relative(remote, prefix) not in pairs:
                fs.rm_file(remote)
        self._write_marker(target, _COMPLETE, sorted(pairs))

    def _download(self, uri: str, folder: Path, names: list[str] | None = None) -> None:
        """Fetch the folder at ``uri``: the files ``names`` lists, or all it holds (no marker)."""
        fs, prefix = fsspec.core.url_to_fs(uri)
        prefix = prefix.rstrip("/")
        for name in names if names is not None else _held_files(fs, prefix, uri):
            local = folder / name
            local.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(f"{prefix}/{name}", str(local))

    def _read_marker(self, uri: str) -> dict[str, Any] | None:
        """The marker of the remote folder at ``uri``: None when it has none."""
        try:
            data = self._fs.cat_file(_marker_uri(uri))
        except FileNotFoundError:
            return None
        try:
            marker = json.loads(data)
        except ValueError:
            marker = None
        # A marker this code cannot read vouches for nothing: the folder counts as incomplete.
        return marker if isinstance(marker, dict) else {"state": "unreadable"}

    def _write_marker(self, uri: str, state: str, files: list[str] | None = None) -> None:
        # Names relative to the folder only: a marker never holds the root, whose URI may carry credentials.
        body = {"state": state, **({"files": files} if files is not None else {})}
        self._fs.pipe_file(_marker_uri(uri), json.dumps(body, indent=2, sort_keys=True).encode())


def _marker_uri(uri: str) -> str:
    """The marker object of the folder at ``uri``: beside it, so the folder holds only its own files."""
    parent, _, name = uri.rstrip("/").rpartition("/")
    return f"{parent}/.{name}{MARKER_SUFFIX}"


def _is_marker(name: str) -> bool:
    return name.startswith(".") and name.endswith(MARKER_SUFFIX)


def _relative(remote: str, prefix: str) -> str:
    return str(remote).removeprefix(prefix.rstrip("/")).lstrip("/")


def _held_files(fs: fsspec.AbstractFileSystem, prefix: str, uri: str) -> list[str]:
    """The names of the objects under ``prefix``, relative to it. Object keys are arbitrary strings, so a
    name that would leave the folder ('..' segments, say) is refused: joined to a local folder it would
    write anywhere on this machine."""
    names = [_relative(remote, prefix) for remote in fs.find(prefix)]
    for name in names:
        if not _inside(name):
            raise IncompleteFolderError(
                f"{mask_credentials(uri)} holds an object whose name leaves the folder ({name!r}); "
                "remove that object, or write the folder again"
            )
    return names


def _listed_files(marker: dict[str, Any], uri: str) -> list[str]:
    """The file names a complete marker lists, each a relative path inside the folder."""
    names = marker.get("files")
    if not isinstance(names, list) or not all(_inside(name) for name in names):
        raise IncompleteFolderError(
            f"{mask_credentials(uri)}: its completion marker does not list the folder's files; write it again"
        )
    return names


def _inside(name: object) -> bool:
    if not isinstance(name, str) or not name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and "\\" not in name


def _plain(name: str) -> str:
    if not is_plain_name(name):
        raise ValueError(f"{name!r} cannot name an artifact folder: it must be one plain path segment")
    return name


def _timestamp(info: dict[str, Any]) -> float | None:
    """An object's modification time from fsspec's listing (S3's LastModified, a local mtime)."""
    value = info.get("LastModified", info.get("mtime"))
    if value is None:
        return None
    return value.timestamp() if hasattr(value, "timestamp") else float(value)
