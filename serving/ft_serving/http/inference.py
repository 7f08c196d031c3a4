"""Inference off the event loop: a bounded pool of worker threads, with optional micro-batching.

onnxruntime and tokenizers release the GIL, so ``workers`` threads run ``workers`` inferences at once.
With batching on, requests that arrive while every worker is busy (or within ``batch_wait_ms`` of the
first) are merged into one onnxruntime call of at most ``max_batch`` texts; each request still gets
exactly its own predictions, from the model it was admitted with. Off by default: on CPU, merging
sentences of different lengths pads them to the longest, which cost more than the saved calls
(``BENCH=http make bench`` measures both).
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ft_serving.classifier import Prediction
from ft_serving.http.limits import RejectedError
from ft_serving.http.metrics import ServeMetrics
from ft_serving.http.models import ServedModel


@dataclass(frozen=True)
class PoolSettings:
    workers: int = 2
    batching: bool = False
    batch_wait_ms: float = 0.0
    max_batch: int = 32
    # Requests admitted (queued or running) before new ones get 503: bounds memory and queueing delay.
    max_pending: int = 512

    def __post_init__(self) -> None:
        if self.workers < 1 or self.max_batch < 1 or self.max_pending < 1:
            raise ValueError(f"workers, max_batch and max_pending must be >= 1: {self}")
        if self.batch_wait_ms < 0:
            raise ValueError(f"batch_wait_ms must be >= 0, got {self.batch_wait_ms}")


@dataclass
class _Job:
    model: ServedModel
    texts: list[str]
    future: asyncio.Future[list[Prediction]]


class InferencePool:
    def __init__(self, settings: PoolSettings, metrics: ServeMetrics) -> None:
        self.settings = settings
        self._metrics = metrics
        self._executor = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="ft-infer")
        self._pending = 0
        self._queue: asyncio.Queue[_Job] | None = None
        self._dispatcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.settings.batching:
            self._queue = asyncio.Queue()
            self._dispatcher = asyncio.create_task(self._dispatch(), name="ft-serve-batcher")

    async def stop(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
        self._executor.shutdown(wait=True)

    async def predict(self, model: ServedModel, texts: list[str]) -> list[Prediction]:
        if not texts:
            return []
        if self._pending >= self.settings.max_pending:
            raise RejectedError(503, "overloaded", f"{self._pending} requests already pending; retry later")
        self._pending += 1
        self._metrics.pending.set(self._pending)
        try:
            if self._queue is None:
                return await asyncio.get_running_loop().run_in_executor(
                    self._executor, self._run, model, texts
                )
            job = _Job(model, texts, asyncio.get_running_loop().create_future())
            self._queue.put_nowait(job)
            return await job.future
        finally:
            self._pending -= 1
            self._metrics.pending.set(self._pending)

    def _run(self, model: ServedModel, texts: list[str]) -> list[Prediction]:
        batch = self.settings.max_batch
        for start in range(0, len(texts), batch):
            self._metrics.batch_size.observe(min(batch, len(texts) - start))
        return model.classifier.predict(texts, batch_size=batch)

    async def _dispatch(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        # A free worker is claimed before waiting for work, so jobs that queue up while all workers
        # are busy are merged when one frees: batching costs no wait at low load.
        free_workers = asyncio.Semaphore(self.settings.workers)
        while True:
            await free_workers.acquire()
            jobs = [await self._queue.get()]
            if self.settings.batch_wait_ms:
                await asyncio.sleep(self.settings.batch_wait_ms / 1000)
            size = len(jobs[0].texts)
            while size < self.settings.max_batch and not self._queue.empty():
                job = self._queue.get_nowait()
                jobs.append(job)
                size += len(job.texts)
            done = loop.run_in_executor(self._executor, self._run_jobs, jobs)
            done.add_done_callback(lambda _: free_workers.release())

    def _run_jobs(self, jobs: list[_Job]) -> None:
        """Runs in a worker thread: one call per model among ``jobs``, results handed back per job."""
        loop = jobs[0].future.get_loop()
        by_model: dict[int, list[_Job]] = {}
        for job in jobs:
            by_model.setdefault(id(job.model), []).append(job)
        for group in by_model.values():
            texts = [text for job in group for text in job.texts]
            try:
                predictions = self._run(group[0].model, texts)
            except Exception as error:  # an inference failure must reach the waiting requests
                for job in group:
                    loop.call_soon_threadsafe(_settle, job.future, None, error)
                continue
            start = 0
            for job in group:
                end = start + len(job.texts)
                loop.call_soon_threadsafe(_settle, job.future, predictions[start:end], None)
                start = end


def _settle(
    future: asyncio.Future[list[Prediction]], result: list[Prediction] | None, error: Exception | None
) -> None:
    if future.done():  # the client went away and its request was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result or [])
