"""ft-serve under load: requests/s and latency percentiles over loopback, beside in-process OnnxClassifier.

Serves the SST-2 bundle (built as `bench_serving` builds it, from the model `sst2_6000` keeps) with a real
`ft-serve` process on 127.0.0.1 and drives it with `wrk` (Debian package `wrk`): concurrency 1, 8 and 32,
single-text and 32-text requests cycling through the 872 SST-2 dev sentences, fp32 and INT8. Every run
is bounded in time (`--seconds`) and in count (`--max-requests`). The in-process figure runs the same
texts through OnnxClassifier with the server's thread layout, so the ratio is the cost of HTTP.
Targets (issue 13): single-text c=8 HTTP throughput >= 70 % of in-process, p99 < 50 ms (INT8).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from ft_serving.classifier import OnnxClassifier
from ft_serving.spec import read_spec

from benchmarks.bench_serving import build_bundle
from benchmarks.bench_sst2_quality import MAX_LENGTH
from benchmarks.common import RESULTS, sst2, write_result

CONCURRENCY = (1, 8, 32)
PAYLOADS = {"single": 1, "batch32": 32}
TARGETS = {"single_c8_http_over_inprocess": 0.70, "single_c8_int8_p99_ms": 50.0}

# wrk's Lua hooks: cycle through prepared bodies, stop each thread after its share of requests, and
# print the summary as JSON (wrk's own report has no p95).
WRK_SCRIPT = """
local bodies, limit, seen, i = {}, 0, 0, 0
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  limit = tonumber(args[2])
  i = math.random(#bodies)
end
function request()
  i = i % #bodies + 1
  return wrk.format("POST", "/v1/predict", {["Content-Type"] = "application/json"}, bodies[i])
end
function response(status, headers, body)
  seen = seen + 1
  if seen >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "max_us": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@contextmanager
def ft_serve(bundle: Path, int8: bool, extra: list[str]) -> Iterator[str]:
    """A real ft-serve process on a free loopback port, stopped by its PID afterwards."""
    command = [sys.executable, "-m", "ft_serving.http.cli", "--port", "0", "--model", str(bundle), *extra]
    if int8:
        command.append("--int8")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("ft-serve: listening on http://127.0.0.1:"):
            raise RuntimeError(f"ft-serve did not start: {line!r}")
        url = line.rsplit(" ", 1)[1].strip()
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("ft-serve never became ready")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_idle(url: str, timeout_s: float = 300) -> None:
    """Requests abandoned by the last run (wrk stops, the server still computes them) must not count."""
    deadline = time.monotonic() + timeout_s
    while "ft_serve_pending_requests 0.0" not in httpx.get(f"{url}/metrics", timeout=30).text:
        if time.monotonic() > deadline:
            raise RuntimeError(f"ft-serve still busy after {timeout_s} s")
        time.sleep(0.2)


def bodies_file(texts: list[str], per_request: int, folder: Path) -> Path:
    path = folder / f"bodies-{per_request}.jsonl"
    lines = [
        json.dumps(
            {"texts": [texts[(start + k) % len(texts)] for k in range(per_request)]}, ensure_ascii=False
        )
        for start in range(0, len(texts), per_request)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def wrk_run(
    url: str, bodies: Path, script: Path, connections: int, seconds: int, max_requests: int
) -> dict[str, Any]:
    threads = min(connections, 2)
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(script), url, "--", str(bodies), str(max(1, max_requests // threads)),
    ]  # fmt: skip
    wait_idle(url)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    seconds_taken = summary["duration_us"] / 1e6
    completed = summary["requests"] > 0  # none may finish in the time bound on a saturated machine
    return {
        "requests": summary["requests"],
        "failed": summary["errors"] + summary["non_2xx"],
        "seconds": round(seconds_taken, 2),
        "requests_per_s": round(summary["requests"] / seconds_taken, 1),
        **{
            f"{name}_ms": round(summary[f"{name}_us"] / 1000, 2) if completed else None
            for name in ("p50", "p95", "p99", "max")
        },
    }


def in_process(
    bundle: Path, int8: bool, texts: list[str], per_request: int, callers: int, ort_threads: int
) -> dict[str, Any]:
    """OnnxClassifier called from ``callers`` threads, each call on ``ort_threads`` onnxruntime threads."""
    classifier = OnnxClassifier(bundle, int8=int8, threads=ort_threads)
    batches = [
        [texts[(start + k) % len(texts)] for k in range(per_request)]
        for start in range(0, len(texts), per_request)
    ]
    classifier.predict(batches[0])
    latencies: list[float] = []
    lock = threading.Lock()

    def run(batch: list[str]) -> None:
        started = time.perf_counter()
        classifier.predict(batch, batch_size=per_request)
        with lock:
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        list(pool.map(run, batches))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(batches),
        "requests_per_s": round(len(batches) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
    }


def serving_install_size() -> dict[str, Any]:
    """`pip install ./serving[http]` into a fresh venv, measured with du, against the project's .venv."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="servevenv-") as folder:
        venv = Path(folder) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", f"{root / 'serving'}[http]"],
            check=True,
            timeout=900,
        )
        serve_mb = _du_mb(venv)
        has_torch = (venv / "lib").glob("python*/site-packages/torch")
        return {
            "serving_venv_mb": serve_mb,
            "project_venv_mb": _du_mb(root / ".venv"),
            "serving_venv_has_torch": any(True for _ in has_torch),
            "command": "python -m venv V && V/bin/pip install ./serving[http] && du -sm V",
        }


def _du_mb(path: Path) -> int:
    return int(
        subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]
    )


def _median_or_none(values: list[float | None]) -> float | None:
    return None if None in values else statistics.median(v for v in values if v is not None)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=RESULTS.parent / ".work" / "sst2-model")
    parser.add_argument(
        "--max-length", type=int, default=MAX_LENGTH, help="the max_length --model was trained with"
    )
    parser.add_argument("--bundle", type=Path, help="use this bundle instead of building one from --model")
    parser.add_argument("--seconds", type=int, default=8, help="time bound of each wrk run (x2 for batch32)")
    parser.add_argument("--max-requests", type=int, default=4000, help="count bound of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="paired HTTP / in-process rounds")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="ft-serve --workers")
    parser.add_argument("--texts", type=int, default=0, help="use the first N dev sentences (0: all)")
    parser.add_argument("--skip-install-size", action="store_true")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    bundle = args.bundle
    if bundle is None:
        if not (args.model / "config.json").is_file():
            raise SystemExit(
                f"{args.model}: no model; run `python -m benchmarks.bench_sst2_quality --keep {args.model}`"
            )
        bundle = build_bundle(args.model, RESULTS.parent / ".work" / "sst2-bundle", args.max_length)
    spec = read_spec(bundle)
    texts = sst2("dev")["text"].tolist()[: args.texts or None]
    cpus = os.cpu_count() or 1
    load_before = os.getloadavg()
    runs: dict[str, Any] = {}
    paired: dict[str, Any] = {}
    plain = ["--workers", str(args.workers), "--threads", "1"]

    def record(key: str, value: dict[str, Any]) -> None:
        runs[key] = value
        print(key, value, flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-http-") as folder:
        script = Path(folder) / "bench.lua"
        script.write_text(WRK_SCRIPT)
        files = {name: bodies_file(texts, size, Path(folder)) for name, size in PAYLOADS.items()}
        for precision, int8 in (("fp32", False), ("int8", True)):
            with ft_serve(bundle, int8, plain) as url:
                wrk_run(url, files["single"], script, 8, 2, 200)  # warm-up
                for payload, size in PAYLOADS.items():
                    seconds = args.seconds * (2 if size > 1 else 1)
                    for connections in CONCURRENCY:
                        record(
                            f"{precision}/http/{payload}/c{connections}",
                            wrk_run(url, files[payload], script, connections, seconds, args.max_requests),
                        )
                # The headline ratio, paired: HTTP and in-process alternate so both meet the same
                # machine load (other jobs share these cores); the idle server costs nothing meanwhile.
                rounds = []
                for _ in range(args.rounds):
                    http = wrk_run(url, files["single"], script, 8, args.seconds, args.max_requests)
                    wait_idle(url)
                    local = in_process(bundle, int8, texts, 1, args.workers, 1)
                    rounds.append({"http": http, "in_process": local})
                    print(precision, "paired", rounds[-1], flush=True)
                ratios = [r["http"]["requests_per_s"] / r["in_process"]["requests_per_s"] for r in rounds]
                paired[precision] = {
                    "rounds": rounds,
                    "http_over_in_process_median": round(statistics.median(ratios), 3),
                    "http_p99_ms_median": _median_or_none([r["http"]["p99_ms"] for r in rounds]),
                }
            with ft_serve(bundle, int8, [*plain, "--micro-batching"]) as url:
                wrk_run(url, files["single"], script, 8, 2, 200)
                for connections in CONCURRENCY:
                    record(
                        f"{precision}/http_micro_batching/single/c{connections}",
                        wrk_run(url, files["single"], script, connections, args.seconds, args.max_requests),
                    )
            # In-process with the server's layout (workers x 1 thread) and as one caller on every core.
            for payload, size in PAYLOADS.items():
                for layout, callers, threads in (("server_layout", args.workers, 1), ("one_caller", 1, cpus)):
                    record(
                        f"{precision}/in_process_{layout}/{payload}",
                        in_process(bundle, int8, texts, size, callers, threads),
                    )
    ratio = {precision: paired[precision]["http_over_in_process_median"] for precision in paired}
    return write_result(
        "http",
        {
            "bundle": {
                "path": str(bundle),
                "model_version": spec.model_version,
                "data_version": spec.data_version,
                "base_model": spec.base_model,
                "max_length": spec.max_length,
            },
            "texts": f"SST-2 dev, {len(texts)} sentences, cycled; batch32: 32 consecutive ones a request",
            "load_tool": "wrk 4 (up to 2 threads, on the same 2 cores as the server), 127.0.0.1",
            "server": f"ft-serve --model B --workers {args.workers} --threads 1 [--micro-batching] [--int8]",
            "bounds": {
                "seconds_per_run": args.seconds,
                "seconds_per_batch32_run": 2 * args.seconds,
                "max_requests_per_run": args.max_requests,
            },
            "uptime_load_before": [round(x, 2) for x in load_before],
            "uptime_load_after": [round(x, 2) for x in os.getloadavg()],
            "runs": runs,
            "paired_single_c8": paired,
            "http_over_in_process_single_c8": ratio,
            "targets": TARGETS,
            "met": {
                "single_c8_http_over_inprocess": min(ratio.values())
                >= TARGETS["single_c8_http_over_inprocess"],
                "single_c8_int8_p99_ms": (paired["int8"]["http_p99_ms_median"] or float("inf"))
                < TARGETS["single_c8_int8_p99_ms"],
            },
            "install": None if args.skip_install_size else serving_install_size(),
        },
    )


if __name__ == "__main__":
    main()
