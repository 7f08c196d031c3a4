"""Artifact storage rooted at a local folder or any fsspec URI: the project's one atomic-write boundary.

Every artifact write goes through this resource. On a local disk a write is a temporary name plus a
rename (``local_writes``); on an object store each object is one PUT, which the store publishes
atomically. Object stores have no atomic multi-object write, so anything that must switch as a whole
(the production model) is a single small object naming immutable folders: see ft_serving.production.
Endpoints and credentials come from the standard variables (``FSSPEC_S3_ENDPOINT_URL`` or
``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...) through fsspec; a URI that carries ``user:pass@``
is shown masked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import fsspec
from fsspec.implementations.local import LocalFileSystem
from ft_serving import local_writes
from ft_serving.production import location, mask_credentials  # one masking rule, serving's
from pydantic import Field

from ft_resources import settings


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
        fs, path = fsspec.core.url_to_fs(self.uri(rel))
        fs.invalidate_cache(path)  # another process may have written it since this one listed
        return fs.exists(path)

    def listdir(self, rel: str) -> list[str]:
        """Names directly under ``rel`` (empty when it does not exist), sorted."""
        try:
            found = self._fs.ls(self.uri(rel), detail=False, refresh=True)
        except FileNotFoundError:
            return []
        return sorted(Path(str(item).rstrip("/")).name for item in found)

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

        ``replace=False`` publishes only when nothing is at ``rel`` yet (immutable folders such as
        registry bundles). On failure nothing is published. Locally the folder appears in one rename;
        on an object store each file is one PUT, so folders there are named by content or version
        and made visible by a pointer object written last.
        """
        target = self.uri(rel)
        if self.is_local:
            with local_writes.staged_dir(Path(target), replace=replace) as staging:
                yield staging
            return
        staging_root = self._cache_root() / "staging"
        staging_root.mkdir(parents=True, exist_ok=True)
        local_writes.sweep_stale(staging_root)
        staging = local_writes.temporary_sibling(staging_root / Path(rel).name)
        staging.mkdir()
        try:
            yield staging
            if replace or not self._fs.exists(target):
                self._upload(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

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
        `refresh=True` for a location whose content may change.
        """
        uri = self._resolve(rel_or_uri)
        if self.is_local:
            return Path(uri)
        local = self._cache_root() / hashlib.sha256(uri.encode()).hexdigest()[:16] / Path(uri).name
        if refresh or not local.exists():
            if self._fs.isdir(uri):
                with local_writes.staged_dir(local, replace=True) as staging:
                    self._download(uri, staging)
            else:
                local_writes.write_bytes(local, self._fs.cat_file(uri))
        return local

    def _resolve(self, rel_or_uri: str) -> str:
        masked_root = mask_credentials(self.root.rstrip("/"))
        if masked_root != self.root.rstrip("/") and rel_or_uri.startswith(masked_root):
            # Metadata holds masked URIs; map them back onto the real root to read them.
            return self.root.rstrip("/") + rel_or_uri[len(masked_root) :]
        if "://" in rel_or_uri or Path(rel_or_uri).is_absolute():
            return rel_or_uri
        return self.uri(rel_or_uri)

    def _cache_root(self) -> Path:
        return Path(self.cache_dir or Path(tempfile.gettempdir()) / "ft-artifact-cache")

    def _upload(self, folder: Path, target: str) -> None:
        fs, prefix = fsspec.core.url_to_fs(target)
        pairs = {path.relative_to(folder).as_posix(): path for path in folder.rglob("*") if path.is_file()}
        fs.put([str(path) for path in pairs.values()], [f"{prefix}/{name}" for name in pairs])
        # Replacing: objects of an older version that the new one lacks go after the new ones land.
        for remote in fs.find(prefix):
            if str(remote).removeprefix(prefix).lstrip("/") not in pairs:
                fs.rm_file(remote)

    def _download(self, uri: str, folder: Path) -> None:
        fs, prefix = fsspec.core.url_to_fs(uri)
        for remote in fs.find(prefix):
            local = folder / str(remote).removeprefix(prefix.rstrip("/")).lstrip("/")
            local.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(remote, str(local))
