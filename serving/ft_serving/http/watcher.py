"""Follows promotions: polls the production pointer and swaps to the bundle it names.

Each poll is one metadata call on ``registry/production.json`` (a ``stat`` on a local disk, a HEAD
giving the ETag on an object store); the pointer is read only when that changes. The new bundle is
verified against the pointer's SHA-256s (a remote one is fetched into the local cache by
``ft_serving.sync``) and loaded with a probe inference, off the event loop, and swapped in only if all
of that succeeds. Otherwise the swap is refused, logged and counted, the old model keeps serving, and
the same pointer is not tried again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ft_serving.checksums import mismatches
from ft_serving.http.metrics import ServeMetrics
from ft_serving.http.models import ModelHolder, ServedModel
from ft_serving.production import POINTER_PATH, location, read_production_pointer
from ft_serving.spec import BundleError
from ft_serving.sync import production_bundle

log = logging.getLogger("ft_serving.http")

Loader = Callable[[Path], ServedModel]
# Whatever of these the filesystem reports changes when the pointer is rewritten.
_SIGNATURE_KEYS = ("ino", "mtime", "ETag", "LastModified", "size")
_ABSENT = ("absent",)


class PointerWatcher:
    def __init__(
        self,
        root: str,
        holder: ModelHolder,
        load: Loader,
        metrics: ServeMetrics,
        interval_s: float = 1.0,
        cache: Path | None = None,
    ) -> None:
        self.root = root
        self.pointer = location(root, POINTER_PATH)
        self.interval_s = interval_s
        self._fs, self._path = fsspec.core.url_to_fs(self.pointer)
        self._remote = not isinstance(self._fs, LocalFileSystem)
        self._cache = cache
        self._holder = holder
        self._load = load
        self._metrics = metrics
        self._seen: tuple[str, ...] | None = None

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except OSError as error:  # an unreachable store: keep serving, try again next poll
                log.warning("cannot check %s: %s", self.pointer, error)
            await asyncio.sleep(self.interval_s)

    async def check(self) -> bool:
        """One poll; True when a new model was swapped in."""
        signature = await asyncio.to_thread(self._signature)
        if signature == self._seen:
            return False
        self._seen = signature
        if signature == _ABSENT:
            log.warning("no production pointer at %s yet; waiting for a promotion", self.pointer)
            return False
        try:
            # Reading, fetching, hashing and loading take a while: the event loop keeps serving.
            model = await asyncio.to_thread(self._load_pointed)
        except (ValueError, OSError) as error:  # BundleError is a ValueError
            self._metrics.swaps.labels(result="refused").inc()
            current = self._holder.current
            keeping = f"keeping model {current.model_version}" if current else "still no model"
            log.error("refused to serve the promoted bundle: %s; %s", error, keeping)
            return False
        if model is None:
            return False
        previous = self._holder.swap(model)
        self._metrics.served(model.model_version, model.data_version)
        if previous is not None:
            self._metrics.swaps.labels(result="ok").inc()
        log.info(
            "serving model %s (data %s) from %s%s",
            model.model_version,
            model.data_version,
            model.bundle_dir,
            f", replacing {previous.model_version}" if previous else "",
        )
        return True

    def _signature(self) -> tuple[str, ...]:
        if self._remote:
            self._fs.invalidate_cache(self._path)  # s3fs would answer from its listing cache
        try:
            info = self._fs.info(self._path)
        except FileNotFoundError:
            return _ABSENT
        return tuple(str(info.get(key)) for key in _SIGNATURE_KEYS)

    def _load_pointed(self) -> ServedModel | None:
        pointer = read_production_pointer(self.root)
        if pointer is None:
            return None
        current = self._holder.current
        if current is not None and current.model_version == pointer.model_version:
            return None
        bundle = production_bundle(self.root, self._cache)  # verified against the pointer when remote
        if not self._remote and (problems := mismatches(bundle, pointer.files)):
            raise BundleError(f"{bundle} does not match {self.pointer}: {'; '.join(problems)}")
        return self._load(bundle)
