"""A real ft-serve process on a free loopback port: start-up, a promotion under load, a refused swap."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from ft_serving.classifier import OnnxClassifier
from ft_serving.production import bundle_path
from ft_serving.spec import read_spec, write_spec

from tests.serving.bundle_factory import shared_graphs
from tests.serving.http_registry import add_to_registry, promote

REQUESTS, CLIENTS = 2000, 8
TEXTS = ["my card was charged twice", "where is my parcel", "the app crashes at login", ""]


def start_server(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """ft-serve on port 0; returns the process and its URL once it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ft_serving.http.cli", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        line = lines.get(timeout=60)
    except queue.Empty:
        stop(process)
        pytest.fail("ft-serve did not report its address within 60 s")
    assert line.startswith("ft-serve: listening on http://127.0.0.1:"), line
    return process, line.rsplit(" ", 1)[1].strip()


def stop(process: subprocess.Popen[str]) -> str:
    """Stop the process we started (by its PID, through Popen) and return its stderr."""
    process.terminate()
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err


def wait_ready(url: str, version: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{url}/readyz", timeout=2)
            if response.status_code == 200 and response.json()["model_version"] == version:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"{url} did not serve {version} within {timeout_s} s")


@pytest.fixture(scope="module")
def registry(tmp_path_factory, finetuned_dir) -> Path:
    """registry/v1 and registry/v2, production -> v1.

    v2 is v1's graph with the label names rotated (saves a second export): the two answer every
    text differently, so each response shows which bundle produced it.
    """
    root = tmp_path_factory.mktemp("artifacts")
    graphs = shared_graphs(tmp_path_factory, finetuned_dir)
    add_to_registry(root, finetuned_dir, graphs, "v1")
    v2 = add_to_registry(root, finetuned_dir, graphs, "v2")
    spec = read_spec(v2)
    rotated = (*spec.labels[1:], spec.labels[0])
    write_spec(v2, replace(spec, labels=rotated))
    (v2 / spec.files.labels).write_text(json.dumps(dict(enumerate(rotated))))
    promote(root, "v1")
    return root


@pytest.fixture(scope="module")
def server(registry) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    # Micro-batching on: a swap must also be clean when queued requests of both models meet in one batch.
    process, url = start_server(
        "--artifacts-dir", str(registry), "--poll-interval", "0.05", "--workers", "2", "--micro-batching"
    )
    try:
        wait_ready(url, "v1")
        yield url, process
    finally:
        stop(process)


def expected_labels(registry: Path) -> dict[str, list[str]]:
    return {
        version: [p.label for p in OnnxClassifier(registry / bundle_path(version)).predict(TEXTS)]
        for version in ("v1", "v2")
    }


def test_promotion_under_load_drops_no_request(server, registry):
    url, _ = server
    expected = expected_labels(registry)
    assert all(a != b for a, b in zip(expected["v1"], expected["v2"], strict=True))
    sent = Counter()
    lock = threading.Lock()

    def client(worker: int) -> list[tuple[int, str, list[str]]]:
        answers = []
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(worker, REQUESTS, CLIENTS):
                with lock:
                    sent["n"] += 1
                    if sent["n"] == REQUESTS // 4:
                        promote(registry, "v2")
                try:
                    response = http.post("/v1/predict", json={"texts": TEXTS})
                except httpx.TransportError as error:
                    answers.append((0, type(error).__name__, []))
                    continue
                body = response.json() if response.status_code == 200 else {}
                labels = [p["label"] for p in body.get("predictions", [])]
                answers.append((response.status_code, body.get("model_version", response.text), labels))
        return answers

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = [answer for batch in pool.map(client, range(CLIENTS)) for answer in batch]
    failures = [a for a in answers if a[0] != 200]
    assert len(answers) == REQUESTS and failures == []
    versions = Counter(version for _, version, _ in answers)
    assert set(versions) == {"v1", "v2"} and versions["v2"] > REQUESTS // 2, versions
    # Every answer comes whole from the one model it names: never half old, half new.
    assert all(labels == expected[version] for _, version, labels in answers)
    assert httpx.get(f"{url}/v1/model").json()["model_version"] == "v2"
    metrics = httpx.get(f"{url}/metrics").text
    assert 'ft_serve_model_swaps_total{result="ok"} 1.0' in metrics
    assert 'ft_serve_model_info{data_version="d-test",model_version="v2"} 1.0' in metrics


def test_promotion_of_a_broken_bundle_is_refused(server, registry):
    url, _ = server
    target = Path(shutil.copytree(registry / bundle_path("v2"), registry / bundle_path("v3-broken")))
    (target / "model.onnx").write_bytes(b"not an onnx graph")
    before = httpx.get(f"{url}/v1/model").json()["model_version"]
    promote(registry, "v3-broken")  # checksums match the broken files: only loading can catch it
    deadline = time.monotonic() + 30
    while 'ft_serve_model_swaps_total{result="refused"} 1.0' not in httpx.get(f"{url}/metrics").text:
        assert time.monotonic() < deadline, "the broken bundle was never tried"
        time.sleep(0.05)
    response = httpx.post(f"{url}/v1/predict", json={"texts": TEXTS})
    assert response.status_code == 200 and response.json()["model_version"] == before
    assert httpx.get(f"{url}/readyz").status_code == 200


def test_fixed_model_with_a_broken_bundle_fails_in_one_line(tmp_path):
    process = subprocess.run(
        [sys.executable, "-m", "ft_serving.http.cli", "--port", "0", "--model", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 2 and process.stdout == ""
    (line,) = process.stderr.strip().splitlines()
    assert line.startswith("ft-serve: ") and str(tmp_path / "nothing") in line


def test_fixed_model_ignores_promotions(registry):
    process, url = start_server(
        "--model", str(registry / bundle_path("v1")), env={"FT_ARTIFACTS_DIR": str(registry)}
    )
    try:
        wait_ready(url, "v1")
        promote(registry, "v2")
        time.sleep(0.5)
        assert httpx.post(f"{url}/v1/predict", json={"texts": ["a"]}).json()["model_version"] == "v1"
    finally:
        stop(process)
