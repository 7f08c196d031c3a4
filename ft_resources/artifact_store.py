"""Artifact storage rooted at a local folder or any fsspec URI, with atomic writes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import fsspec
from fsspec.implementations.local import LocalFileSystem
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
        base = self.root.rstrip("/")
        if self.is_local:
            return str(Path(base).absolute().joinpath(*parts))
        return "/".join([base, *parts])

    def exists(self, rel: str) -> bool:
        return self._fs.exists(self.uri(rel))

    def write_bytes(self, rel: str, data: bytes) -> str:
        target = self.uri(rel)
        if self.is_local:
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            # A reader never sees a half-written file: write beside the target, then rename over it.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                Path(tmp).replace(path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        else:
            # Object stores publish a single PUT atomically.
            self._fs.pipe_file(target, data)
        return target

    def read_bytes(self, rel_or_uri: str) -> bytes:
        return self._fs.cat_file(self._resolve(rel_or_uri))

    def write_json(self, rel: str, obj: Any) -> str:
        return self.write_bytes(rel, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())

    def read_json(self, rel_or_uri: str) -> Any:
        return json.loads(self.read_bytes(rel_or_uri))

    @contextlib.contextmanager
    def write_dir(self, rel: str) -> Iterator[Path]:
        """Yield an empty local folder; on success it is published at `rel` in one step.

        An existing folder at `rel` is replaced. On failure nothing is published.
        """
        target = self.uri(rel)
        staging_parent = Path(target).parent if self.is_local else Path(tempfile.gettempdir())
        staging_parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=staging_parent, prefix=f".{Path(rel).name}.", suffix=".tmp"))
        try:
            yield staging
            if self.is_local:
                self._replace_local_dir(staging, Path(target))
            else:
                if self._fs.exists(target):
                    self._fs.rm(target, recursive=True)
                self._fs.put(str(staging), target, recursive=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def local_path(self, rel_or_uri: str, *, refresh: bool = False) -> Path:
        """A local path for an artifact folder or file, downloading remote ones into the cache.

        Content-addressed artifacts never change, so a cached copy is reused; pass `refresh=True` for
        mutable locations such as the production bundle.
        """
        uri = self._resolve(rel_or_uri)
        if self.is_local:
            return Path(uri)
        cache_root = Path(self.cache_dir or Path(tempfile.gettempdir()) / "ft-artifact-cache")
        local = cache_root / hashlib.sha256(uri.encode()).hexdigest()[:16] / Path(uri).name
        if refresh and local.is_dir():
            shutil.rmtree(local)
        elif refresh and local.exists():
            local.unlink()
        if not local.exists():
            local.parent.mkdir(parents=True, exist_ok=True)
            partial = local.with_name(f".{local.name}.{uuid.uuid4().hex}")
            self._fs.get(uri, str(partial), recursive=True)
            partial.replace(local)
        return local

    def _resolve(self, rel_or_uri: str) -> str:
        if "://" in rel_or_uri or Path(rel_or_uri).is_absolute():
            return rel_or_uri
        return self.uri(rel_or_uri)

    @staticmethod
    def _replace_local_dir(staging: Path, target: Path) -> None:
        if not target.exists():
            staging.replace(target)
            return
        # Rename the old folder aside first so the target is never missing half its files.
        retired = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        target.replace(retired)
        staging.replace(target)
        shutil.rmtree(retired, ignore_errors=True)
