"""The model being served and the one place that swaps it.

A request takes ``holder.current`` once and uses that object to the end, so a swap (one reference
assignment) never changes the model under a request in flight; the old model is freed when its last
request finishes.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ft_serving.classifier import OnnxClassifier
from ft_serving.spec import REPORT_METRICS, BundleError, BundleSpec, read_spec


@dataclass(frozen=True)
class ServedModel:
    classifier: OnnxClassifier
    spec: BundleSpec
    bundle_dir: Path
    int8: bool
    report: dict[str, Any]
    loaded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def model_version(self) -> str:
        return self.spec.model_version

    @property
    def data_version(self) -> str:
        return self.spec.data_version

    def describe(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "data_version": self.data_version,
            "labels": list(self.classifier.labels),
            "max_length": self.classifier.max_length,
            "truncation_side": self.spec.truncation_side,
            "base_model": self.spec.base_model,
            "int8": self.int8,
            # The folder's name only: where the server keeps its files is no caller's business.
            "bundle": self.bundle_dir.name,
            "loaded_at": self.loaded_at,
            "metrics": {key: self.report[key] for key in REPORT_METRICS if key in self.report},
        }


def load_model(bundle_dir: Path, *, int8: bool, threads: int | None) -> ServedModel:
    """Open and probe the bundle (OnnxClassifier runs one inference); BundleError if it cannot serve."""
    classifier = OnnxClassifier(bundle_dir, int8=int8, threads=threads)
    spec = read_spec(bundle_dir)
    report_path = bundle_dir / spec.files.report
    try:
        report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{report_path} is not readable JSON: {error}") from None
    if not isinstance(report, dict):
        raise BundleError(f"{report_path} must hold a JSON object")
    return ServedModel(classifier=classifier, spec=spec, bundle_dir=bundle_dir, int8=int8, report=report)


class ModelHolder:
    """Holds the served model; ``None`` until the first bundle loads (then /readyz turns 200)."""

    def __init__(self, model: ServedModel | None = None) -> None:
        self._model = model
        self._lock = threading.Lock()

    @property
    def current(self) -> ServedModel | None:
        return self._model

    def swap(self, model: ServedModel) -> ServedModel | None:
        with self._lock:
            previous, self._model = self._model, model
        return previous
