"""Turning a fine-tuned model directory into a verified bundle: fp32 and INT8 ONNX graphs, bundle.json."""

from ft_assets.export.latency import LatencyReport, measure_latency, onnx_runner, torch_runner
from ft_assets.export.onnx_export import ExportError, export_onnx
from ft_assets.export.parity import PARITY_TOLERANCE, ParityReport, check_parity
from ft_assets.export.quantize import quantize_int8
from ft_assets.export.serving_files import write_serving_files

__all__ = [
    "PARITY_TOLERANCE",
    "ExportError",
    "LatencyReport",
    "ParityReport",
    "check_parity",
    "export_onnx",
    "measure_latency",
    "onnx_runner",
    "quantize_int8",
    "torch_runner",
    "write_serving_files",
]
