"""Follows promotions: polls the production pointer and swaps to the bundle it names.

Each poll is one ``stat`` of ``registry/production.json`` (inode, mtime, size); the pointer is read
only when that changes. The new bundle is checked against the pointer's checksums and loaded (with a
probe inference) off the event loop, and swapped in only if all of that succeeds; otherwise the swap
is refused, logged and counted, the old model keeps serving, and the same pointer is not retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from ft_serving.checksums import mismatches
from ft_serving.http.metrics import ServeMetrics
from ft_serving.http.models import ModelHolder, ServedModel
from ft_serving.production import POINTER_PATH, location, read_production_pointer
from ft_serving.spec import BundleError

log = logging.getLogger("ft_serving.http")

Loader = Callable[[Path], ServedModel]
_Signature = tuple[int, int, int]


class PointerWatcher:
    def __init__(
        self, root: str, holder: ModelHolder, load: Loader, metrics: ServeMetrics, interval_s: float = 1.0
    ) -> None:
        if "://" in location(root, POINTER_PATH):
            raise ValueError(f"ft-serve follows a local artifact root only, not {root}; pass --model")
        self.root = root
        self.pointer_file = Path(location(root, POINTER_PATH))
        self.interval_s = interval_s
        self._holder = holder
        self._load = load
        self._metrics = metrics
        self._seen: _Signature | None = None

    async def run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.interval_s)

    async def check(self) -> bool:
        """One poll; True when a new model was swapped in."""
        try:
            stat = self.pointer_file.stat()
        except FileNotFoundError:
            if self._seen != (0, 0, 0):
                log.warning("no production pointer at %s yet; waiting for a promotion", self.pointer_file)
                self._seen = (0, 0, 0)
            return False
        signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if signature == self._seen:
            return False
        self._seen = signature
        try:
            # Reading, hashing and loading take a while: keep the event loop serving meanwhile.
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

    def _load_pointed(self) -> ServedModel | None:
        pointer = read_production_pointer(self.root)
        if pointer is None:
            return None
        bundle = Path(location(self.root, pointer.bundle))
        current = self._holder.current
        if current is not None and current.bundle_dir == bundle:
            return None
        problems = mismatches(bundle, pointer.files) if bundle.is_dir() else []
        if problems:
            raise BundleError(f"{bundle} does not match {self.pointer_file}: {'; '.join(problems)}")
        return self._load(bundle)
