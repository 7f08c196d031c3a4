"""A Dagster resource that serves the production bundle through OnnxClassifier."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from ft_serving.classifier import OnnxClassifier
from pydantic import Field


class ClassifierResource(dg.ConfigurableResource):
    """Loads a bundle folder as an OnnxClassifier; assets pass the bundle their lineage points to."""

    int8: bool = Field(default=False, description="Serve model.int8.onnx instead of the fp32 model.")
    threads: int = Field(default=0, description="onnxruntime intra-op threads; 0 lets onnxruntime choose.")
    batch_size: int = Field(default=64, description="Texts per onnxruntime call.")

    def load(self, bundle_dir: Path | str) -> OnnxClassifier:
        return OnnxClassifier(bundle_dir, int8=self.int8, threads=self.threads or None)
