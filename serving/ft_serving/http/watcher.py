"""Follows promotions: polls the production pointer and swaps to the bundle it names.

Each poll is one metadata call on ``registry/production.json`` (a ``stat`` on a local disk, a HEAD
giving the ETag on an object store); the pointer is read only when that changes. The new bundle is
verified against the pointer's SHA-256s by ``ft_serving.sync.verified_bundle`` (a remote one is fetched
into the local cache first) and loaded with a probe inference, off the event loop, and swapped in only
if all of that succeeds. A bundle that fails those checks is refused, logged and counted, the old model
keeps serving, and the same pointer is not tried again. A failure of the store or the disk on the way (a
network error, a timeout) says nothing about the bundle: it is logged and the pointer is tried again at
the next poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ft_serving.http.metrics import ServeMetrics
from ft_serving.http.models import ModelHolder, ServedModel
from ft_serving.production import POINTER_PATH, location, mask_credentials, read_production_pointer
from ft_serving.sync import verified_bundle

log = logging.getLogger("ft_serving.http")

Loader = Callable[[Path], ServedModel]
# Whatever of these the filesystem reports changes when the pointer is rewritten.
_SIGNATURE_KEYS = ("ino", "mtime", "ETag", "LastModified", "size")
_ABSENT = ("absent",)
# Seconds between two looks at the pointer: one stat (a HEAD on s3://), cheap enough to do often.
POLL_INTERVAL_S = 1.0
# A store that keeps failing is asked half as often after each failure, down to once in this many seconds:
# an outage of hours logs a few hundred lines, not one a second, and recovery is seen within this bound.
BACKOFF_MAX_S = 30.0


class PointerWatcher:
    def __init__(
        self,
        root: str,
        holder: ModelHolder,
        load: Loader,
        metrics: ServeMetrics,
        interval_s: float = POLL_INTERVAL_S,
        cache: Path | None = None,
    ) -> None:
        self.root = root
        self.pointer = location(root, POINTER_PATH)
        self._shown = mask_credentials(self.pointer)  # what logs and errors may name
        self.interval_s = interval_s
        self._fs, self._path = fsspec.core.url_to_fs(self.pointer)
        self._remote = not isinstance(self._fs, LocalFileSystem)
        self._cache = cache
        self._holder = holder
        self._load = load
        self._metrics = metrics
        self._seen: tuple[str, ...] | None = None
        self._failures = 0  # polls in a row that the store or the network failed

    async def run(self) -> None:
        """Poll until cancelled; no error of one poll stops the server from following promotions."""
        while True:
            await self.poll()
            await asyncio.sleep(self.next_delay())

    def next_delay(self) -> float:
        """The poll interval, doubled for each failed poll in a row, up to BACKOFF_MAX_S."""
        if self._failures == 0:
            return self.interval_s
        return min(self.interval_s * 2 ** min(self._failures, 32), max(self.interval_s, BACKOFF_MAX_S))

    async def poll(self) -> None:
        """One check whose errors are logged, not raised: a store that is down at start-up or later
        leaves the server up (not ready until a first bundle loads), trying again at the next poll."""
        # CancelledError is a BaseException, not an Exception: shutdown still ends the loop.
        try:
            await self.check()
        except OSError as error:  # an unreachable store: keep serving, try again next poll
            self._failures += 1
            log.warning("cannot check %s: %s", self._shown, self._describe(error))
        except Exception as error:  # a store client's own error type, or a bug: same
            self._failures += 1
            log.error("polling %s failed: %s; polling on", self._shown, self._describe(error))

    async def check(self) -> bool:
        """One poll; True when a new model was swapped in."""
        signature = await asyncio.to_thread(self._signature)
        if signature == self._seen:
            self._failures = 0
            return False
        if signature == _ABSENT:
            self._seen, self._failures = signature, 0
            log.warning("no production pointer at %s yet; waiting for a promotion", self._shown)
            return False
        current = self._holder.current
        keeping = f"keeping model {current.model_version}" if current else "still no model"
        try:
            # Reading, fetching, hashing and loading take a while: the event loop keeps serving.
            model = await asyncio.to_thread(self._load_pointed)
        except ValueError as error:  # BundleError (SyncError, ProductionError) included: a bad bundle
            self._seen, self._failures = signature, 0  # refused once; the next promotion rewrites it
            self._metrics.swaps.labels(result="refused").inc()
            refusal = mask_credentials(str(error), self.root)
            log.error("refused to serve the promoted bundle: %s; %s", refusal, keeping)
            return False
        except Exception as error:  # OSError, a store client's errors: not the bundle's fault
            self._failures += 1
            log.warning(
                "could not fetch or load the promoted bundle: %s; %s, will retry at the next poll",
                self._describe(error),
                keeping,
            )
            return False
        self._seen, self._failures = signature, 0
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
        # The pointer read once: the bundle verified is the one this pointer names, not a later one's.
        return self._load(verified_bundle(self.root, pointer, self._cache))

    def _describe(self, error: BaseException) -> str:
        """Type and message, for a log line; the root's credentials masked wherever the message has them."""
        return f"{type(error).__name__}: {mask_credentials(str(error), self.root)}"
