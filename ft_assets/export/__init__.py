"""Turning a fine-tuned model directory into verified fp32 and INT8 ONNX graphs, with latency."""

from ft_assets.export.latency import LatencyReport, measure_latency
from ft_assets.export.onnx_export import ExportError, export_onnx
from ft_assets.export.parity import ParityReport, check_parity
from ft_assets.export.quantize import quantize_int8

__all__ = [
    "ExportError",
    "LatencyReport",
    "ParityReport",
    "check_parity",
    "export_onnx",
    "measure_latency",
    "quantize_int8",
]
