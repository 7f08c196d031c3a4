"""Accelerator resource: turns "auto" device/precision requests into concrete torch settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import dagster as dg
import torch
from pydantic import Field

Device = Literal["cuda", "cpu"]
Precision = Literal["fp32", "bf16", "fp16"]
DeviceRequest = Literal["auto", "cuda", "cpu"]
PrecisionRequest = Literal["auto", "fp32", "bf16", "fp16"]


@dataclass(frozen=True)
class DeviceSettings:
    """What training will actually run on, after every "auto" has been decided."""

    device: Device
    precision: Precision
    num_threads: int
    device_name: str


class AcceleratorResource(dg.ConfigurableResource):
    """Chooses the device and numeric precision for training and inference."""

    device: DeviceRequest = Field(
        default="auto", description="auto picks CUDA when a GPU is visible, else CPU."
    )
    precision: PrecisionRequest = Field(
        default="auto",
        description="auto: bf16 on GPUs that support it, fp16 on older GPUs; on CPU bf16 where it is native "
        "(AVX-512 BF16 or AMX), else fp32.",
    )
    num_threads: int = Field(
        default=0, ge=0, description="torch intra-op threads; 0 leaves torch's default untouched."
    )

    def resolve(self) -> DeviceSettings:
        device = _resolve_device(self.device)
        precision = _resolve_precision(self.precision, device)
        # Set before reading back, so the reported count is the one in effect for this process.
        if self.num_threads > 0:
            torch.set_num_threads(self.num_threads)
        return DeviceSettings(
            device=device,
            precision=precision,
            num_threads=torch.get_num_threads(),
            device_name=_device_name(device),
        )


def _resolve_device(requested: DeviceRequest) -> Device:
    cuda = torch.cuda.is_available()
    if requested == "auto":
        return "cuda" if cuda else "cpu"
    if requested == "cuda" and not cuda:
        raise ValueError(
            "AcceleratorResource.device='cuda' but torch sees no CUDA device "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}); use 'auto' or 'cpu'."
        )
    return requested


def _resolve_precision(requested: PrecisionRequest, device: Device) -> Precision:
    if requested == "auto":
        if device == "cpu":
            # bf16 autocast pays only where the CPU computes bf16 natively (AVX-512 BF16 or AMX):
            # 1.44-1.53x a MiniLM training step here at the same validation score (BENCH=precision,
            # defaults_*); elsewhere it is emulated and slower than fp32.
            return "bf16" if cpu_has_native_bf16() else "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if requested == "fp16" and device == "cpu":
        raise ValueError("precision='fp16' needs a CUDA device; on CPU use 'fp32' or 'bf16'.")
    if requested == "bf16" and device == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"precision='bf16' is not supported by {torch.cuda.get_device_name(0)}; use 'fp16'.")
    return requested


def cpu_has_native_bf16() -> bool:
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def _device_name(device: Device) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name(torch.cuda.current_device())
    return f"CPU ({os.cpu_count()} logical cores)"
