"""Dynamic INT8 quantization of the fp32 graph for CPU serving."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic

logger = logging.getLogger(__name__)


def quantize_int8(fp32_path: Path, int8_path: Path) -> Path:
    """Quantize weights to QInt8 per channel (activations on the fly) into ``int8_path``.

    Pre-processing first folds the exporter's duplicated constants with ORT's basic optimizations,
    which made the tiny BERT's INT8 file ~17% smaller at identical outputs. Symbolic shape inference
    is skipped: it fails on dynamo-exported graphs and leaves temp files in the working directory.
    """
    fp32_path, int8_path = Path(fp32_path), Path(int8_path)
    int8_path.parent.mkdir(parents=True, exist_ok=True)
    # Scratch space for the pre-processed graph only; the caller's ArtifactStore.write_dir staging
    # folder makes the bundle appear whole.
    with tempfile.TemporaryDirectory(prefix="ft-onnx-quantize-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        source = fp32_path
        try:
            quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
            source = prepared
        except Exception as error:  # pre-processing is an optimisation; quantizing without it still works
            logger.warning("quantization pre-processing failed, quantizing the raw graph: %s", error)
        # Per-channel scales keep MiniLM's SST-2 dev accuracy within 0.4 points of fp32, where one scale
        # per tensor lost 1.5 points (benchmarks/bench_serving.py).
        quantize_dynamic(str(source), str(int8_path), weight_type=QuantType.QInt8, per_channel=True)
    return int8_path
