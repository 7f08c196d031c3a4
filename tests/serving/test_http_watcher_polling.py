"""PointerWatcher on its own: transient failures are retried, bad bundles refused once, the loop survives.

The loader is a stand-in (no ONNX): these tests are about when the watcher tries and what it logs.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from ft_serving.http import app as app_module
from ft_serving.http import watcher as watcher_module
from ft_serving.http.app import ServeConfig, create_app
from ft_serving.http.metrics import ServeMetrics
from ft_serving.http.models import ModelHolder, ServedModel
from ft_serving.http.watcher import PointerWatcher
from ft_serving.local_writes import write_bytes
from ft_serving.production import POINTER_PATH, ProductionPointer, bundle_path
from ft_serving.spec import BundleError, BundleSpec

from tests.conftest import SECRET

FILES = {"model.onnx": b"graph", "labels.json": b'{"0": "a", "1": "b"}'}


def publish(root: Path, version: str) -> None:
    folder = root / bundle_path(version)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in FILES.items():
        (folder / name).write_bytes(data)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}
    pointer = ProductionPointer(version, bundle_path(version), "2026-01-01T00:00:00+00:00", digests)
    write_bytes(root / POINTER_PATH, pointer.to_json())


def served(bundle: Path) -> ServedModel:
    spec = BundleSpec(
        model_version=bundle.name,
        data_version="d1",
        base_model="tiny",
        labels=("a", "b"),
        max_length=8,
        model_inputs=("input_ids", "attention_mask"),
    )
    return ServedModel(classifier=cast(Any, None), spec=spec, bundle_dir=bundle, int8=False, report={})


class Loader:
    """Counts calls; raises the queued errors first, then loads."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, bundle: Path) -> ServedModel:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return served(bundle)


def make_watcher(
    root: str | Path, load: Callable[[Path], ServedModel]
) -> tuple[PointerWatcher, ServeMetrics]:
    metrics = ServeMetrics()
    return PointerWatcher(str(root), ModelHolder(), load, metrics, interval_s=0.01), metrics


def swaps(metrics: ServeMetrics, result: str) -> float:
    return metrics.registry.get_sample_value("ft_serve_model_swaps_total", {"result": result}) or 0.0


class EndpointConnectionError(Exception):
    """Shaped like botocore's: a network failure that is not an OSError."""


@pytest.mark.parametrize(
    "error",
    [
        ConnectionResetError("connection reset by peer"),
        TimeoutError("read timed out"),
        EndpointConnectionError("x"),
    ],
    ids=["OSError", "TimeoutError", "not-an-OSError"],
)
def test_a_transient_fetch_error_is_retried_on_the_next_poll(tmp_path, monkeypatch, caplog, error):
    publish(tmp_path, "v1")
    fetch = watcher_module.verified_bundle
    failures = [error]

    def flaky_fetch(root: str, pointer: ProductionPointer, cache: Path | None = None) -> Path:
        if failures:
            raise failures.pop(0)
        return fetch(root, pointer, cache)

    monkeypatch.setattr(watcher_module, "verified_bundle", flaky_fetch)
    watcher, metrics = make_watcher(tmp_path, Loader())
    caplog.set_level(logging.INFO, logger="ft_serving.http")
    assert asyncio.run(watcher.check()) is False
    assert watcher._holder.current is None
    assert swaps(metrics, "refused") == 0  # not a refusal: nothing was wrong with the bundle
    assert type(error).__name__ in caplog.text and str(error) in caplog.text
    assert "will retry" in caplog.text
    assert asyncio.run(watcher.check()) is True  # same pointer, next poll
    assert watcher._holder.current is not None and watcher._holder.current.model_version == "v1"


def test_a_transient_load_error_keeps_the_old_model_and_is_retried(tmp_path):
    publish(tmp_path, "v1")
    load = Loader(OSError("stale file handle"))
    watcher, _ = make_watcher(tmp_path, load)
    watcher._holder.swap(served(tmp_path / bundle_path("v0")))
    assert asyncio.run(watcher.check()) is False
    assert watcher._holder.current.model_version == "v0"
    assert asyncio.run(watcher.check()) is True
    assert watcher._holder.current.model_version == "v1"
    assert load.calls == 2


def test_a_bad_bundle_is_refused_once_and_not_retried_every_poll(tmp_path, caplog):
    publish(tmp_path, "v1")
    load = Loader(BundleError("model.onnx is not a loadable ONNX model: garbage"))
    watcher, metrics = make_watcher(tmp_path, load)
    caplog.set_level(logging.INFO, logger="ft_serving.http")

    async def polls() -> list[bool]:
        return [await watcher.check() for _ in range(4)]

    assert asyncio.run(polls()) == [False] * 4
    assert load.calls == 1
    assert swaps(metrics, "refused") == 1
    assert caplog.text.count("refused to serve the promoted bundle") == 1
    publish(tmp_path, "v2")  # the next promotion is tried
    assert asyncio.run(watcher.check()) is True
    assert watcher._holder.current.model_version == "v2"


def test_files_that_differ_from_the_pointer_are_refused_once(tmp_path):
    publish(tmp_path, "v1")
    (tmp_path / bundle_path("v1") / "model.onnx").write_bytes(b"tampered")
    load = Loader()
    watcher, metrics = make_watcher(tmp_path, load)

    async def polls() -> list[bool]:
        return [await watcher.check() for _ in range(3)]

    assert asyncio.run(polls()) == [False] * 3
    assert load.calls == 0
    assert swaps(metrics, "refused") == 1


def test_the_polling_loop_survives_unexpected_errors_and_stops_when_cancelled(tmp_path, caplog):
    watcher, _ = make_watcher(tmp_path, Loader())
    calls = 0

    async def scenario() -> asyncio.Task[None]:
        started = asyncio.Event()

        async def check() -> bool:
            nonlocal calls
            calls += 1
            if calls in (1, 2):
                raise RuntimeError(f"bug number {calls}")
            started.set()
            await asyncio.sleep(3600)  # cancelled here, inside a poll
            return False

        watcher.check = check  # type: ignore[method-assign]
        task = asyncio.create_task(watcher.run())
        await asyncio.wait_for(started.wait(), timeout=10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
        return task

    caplog.set_level(logging.INFO, logger="ft_serving.http")
    task = asyncio.run(scenario())
    assert task.cancelled()
    assert calls == 3
    assert "RuntimeError: bug number 1" in caplog.text and "RuntimeError: bug number 2" in caplog.text


# Credentials in the artifact root -------------------------------------------------------------------


def test_watcher_logs_never_show_the_credentials_of_the_root(credentialed_memory_root, monkeypatch, caplog):
    watcher, _ = make_watcher(credentialed_memory_root, Loader())
    caplog.set_level(logging.INFO, logger="ft_serving.http")
    assert asyncio.run(watcher.check()) is False  # no pointer yet
    assert "no production pointer at memory://***@" in caplog.text

    def unreachable() -> tuple[str, ...]:
        # What s3fs says: the path without its scheme, credentials included.
        raise PermissionError(f"Access Denied: AKIAKEY:{SECRET}@bucket/artifacts/registry/production.json")

    monkeypatch.setattr(watcher, "_signature", unreachable)

    async def one_poll() -> None:
        task = asyncio.create_task(watcher.run())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(one_poll())
    assert "Access Denied" in caplog.text
    assert SECRET not in caplog.text


def test_a_store_that_is_down_at_start_up_leaves_the_server_up_and_not_ready(tmp_path, monkeypatch):
    calls = {"n": 0}
    real_signature = PointerWatcher._signature

    def flaky(self: PointerWatcher) -> tuple[str, ...]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("store unreachable")
        return real_signature(self)

    monkeypatch.setattr(PointerWatcher, "_signature", flaky)
    config = ServeConfig(artifacts_root=str(tmp_path), poll_interval_s=0.01)
    with TestClient(create_app(config)) as client:
        # The first look failed: the server started anyway and says it has no model yet.
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        assert calls["n"] >= 1


def test_a_store_that_keeps_failing_is_polled_less_and_less_often_until_it_answers(tmp_path, monkeypatch):
    publish(tmp_path, "v1")
    watcher = PointerWatcher(str(tmp_path), ModelHolder(), Loader(), ServeMetrics(), interval_s=1.0)
    real_signature = watcher._signature
    down = {"polls": 8}

    def outage() -> tuple[str, ...]:
        if down["polls"]:
            down["polls"] -= 1
            raise ConnectionError("store unreachable")
        return real_signature()

    monkeypatch.setattr(watcher, "_signature", outage)
    delays = []
    for _ in range(9):
        asyncio.run(watcher.poll())
        delays.append(watcher.next_delay())
    # Doubling from the interval, capped, then back to the interval once the store answers and v1 loads.
    assert delays == [2.0, 4.0, 8.0, 16.0, watcher_module.BACKOFF_MAX_S, 30.0, 30.0, 30.0, 1.0]
    assert watcher._holder.current is not None and watcher._holder.current.model_version == "v1"


def test_the_server_answers_probes_while_the_first_bundle_loads(tmp_path, monkeypatch):
    """A slow store must not fail liveness probes: the first load runs while the server answers."""
    publish(tmp_path, "v1")
    release = threading.Event()
    # Released by the test once it has probed; the timer only keeps a server that blocks at start-up
    # (the failure this test is for) from hanging the run.
    safety = threading.Timer(20, release.set)
    safety.start()

    def slow_load(bundle: Path, **_: object) -> ServedModel:
        release.wait()
        return served(bundle)

    monkeypatch.setattr(app_module, "load_model", slow_load)
    config = ServeConfig(artifacts_root=str(tmp_path), poll_interval_s=0.01)
    try:
        with TestClient(create_app(config)) as client:
            assert not release.is_set(), "start-up waited for the first bundle"
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 503
            assert client.post("/v1/predict", json={"texts": ["a"]}).json()["reason"] == "not_ready"
            release.set()
            deadline = time.monotonic() + 10
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "the first bundle never became ready"
                time.sleep(0.01)
            assert client.get("/readyz").json() == {"status": "ready", "model_version": "v1"}
    finally:
        safety.cancel()
