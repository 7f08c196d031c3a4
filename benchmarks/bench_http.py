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

from benchmarks.bench_serving import build_bundle
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
    url: str, bodies: Path, script: Path, connections: int, seconds: float, max_requests: int
) -> dict[str, Any]:
    threads = min(connections, 2)
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(script), url, "--", str(bodies), str(max(1, max_requests // threads)),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    seconds_taken = summary["duration_us"] / 1e6
    return {
        "requests": summary["requests"],
        "failed": summary["errors"] + summary["non_2xx"],
        "seconds": round(seconds_taken, 2),
        "requests_per_s": round(summary["requests"] / seconds_taken, 1),
        "p50_ms": round(summary["p50_us"] / 1000, 2),
        "p95_ms": round(summary["p95_us"] / 1000, 2),
        "p99_ms": round(summary["p99_us"] / 1000, 2),
        "max_ms": round(summary["max_us"] / 1000, 2),
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


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=RESULTS.parent / ".work" / "sst2-model")
    parser.add_argument("--bundle", type=Path, help="use this bundle instead of building one from --model")
    parser.add_argument("--seconds", type=float, default=8.0, help="time bound of each wrk run")
    parser.add_argument("--max-requests", type=int, default=4000, help="count bound of each wrk run")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="ft-serve --workers")
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
        bundle = build_bundle(args.model, RESULTS.parent / ".work" / "sst2-bundle")
    texts = sst2("dev")["text"].tolist()
    cpus = os.cpu_count() or 1
    load_before = os.getloadavg()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-http-") as folder:
        script = Path(folder) / "bench.lua"
        script.write_text(WRK_SCRIPT)
        files = {name: bodies_file(texts, size, Path(folder)) for name, size in PAYLOADS.items()}
        variants = {"plain": [], "micro_batching": ["--micro-batching"]}
        for precision, int8 in (("fp32", False), ("int8", True)):
            for variant, flags in variants.items():
                server_args = ["--workers", str(args.workers), "--threads", "1", *flags]
                with ft_serve(bundle, int8, server_args) as url:
                    wrk_run(url, files["single"], script, 8, 2, 200)  # warm-up
                    for payload in PAYLOADS if variant == "plain" else ("single",):
                        for connections in CONCURRENCY:
                            key = f"{precision}/{variant}/{payload}/c{connections}"
                            results[key] = wrk_run(
                                url, files[payload], script, connections, args.seconds, args.max_requests
                            )
                            print(key, results[key], flush=True)
            # The server's layout (workers x 1 thread) and one caller using every core: the best counts.
            for payload, size in PAYLOADS.items():
                for layout, callers, threads in (("server_layout", args.workers, 1), ("one_caller", 1, cpus)):
                    key = f"{precision}/in_process_{layout}/{payload}"
                    results[key] = in_process(bundle, int8, texts, size, callers, threads)
                    print(key, results[key], flush=True)
    best_in_process = {
        precision: max(
            results[f"{precision}/in_process_{layout}/single"]["requests_per_s"]
            for layout in ("server_layout", "one_caller")
        )
        for precision in ("fp32", "int8")
    }
    ratio = {
        precision: round(results[f"{precision}/plain/single/c8"]["requests_per_s"] / best, 3)
        for precision, best in best_in_process.items()
    }
    return write_result(
        "http",
        {
            "texts": "SST-2 dev, 872 sentences, cycled; batch32 = 32 consecutive sentences a request",
            "load_tool": "wrk 4 (2 threads, on the same 2 cores as the server)",
            "server": f"ft-serve --model B --workers {args.workers} --threads 1 [--micro-batching] [--int8]",
            "bounds": {"seconds_per_run": args.seconds, "max_requests_per_run": args.max_requests},
            "uptime_load_before": [round(x, 2) for x in load_before],
            "uptime_load_after": [round(x, 2) for x in os.getloadavg()],
            "runs": results,
            "http_over_in_process_single_c8": ratio,
            "targets": TARGETS,
            "met": {
                "single_c8_http_over_inprocess": min(ratio.values())
                >= TARGETS["single_c8_http_over_inprocess"],
                "single_c8_int8_p99_ms": results["int8/plain/single/c8"]["p99_ms"]
                < TARGETS["single_c8_int8_p99_ms"],
            },
            "install": None if args.skip_install_size else serving_install_size(),
        },
    )


if __name__ == "__main__":
    main()
