"""AcceleratorResource.resolve: device/precision rules and thread setting."""

from __future__ import annotations

import pydantic
import pytest
import torch

from ft_resources.accelerator import AcceleratorResource, DeviceSettings


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def fake_cuda(monkeypatch):
    """A visible GPU whose bf16 support the test chooses (returns a setter)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda _index=None: "Fake GPU")

    def set_bf16(supported: bool) -> None:
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: supported)

    return set_bf16


@pytest.fixture
def restore_threads():
    previous = torch.get_num_threads()
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def native_bf16(monkeypatch):
    """A CPU whose native bf16 support the test chooses (returns a setter)."""

    def set_native(supported: bool) -> None:
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: supported)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)

    return set_native


def test_auto_on_a_cpu_without_native_bf16_is_cpu_fp32(no_cuda, native_bf16):
    native_bf16(False)
    settings = AcceleratorResource().resolve()
    assert (settings.device, settings.precision) == ("cpu", "fp32")
    assert settings.num_threads == torch.get_num_threads()
    assert settings.device_name.startswith("CPU (")


def test_auto_on_a_cpu_with_native_bf16_is_bf16(no_cuda, native_bf16):
    native_bf16(True)
    assert AcceleratorResource().resolve().precision == "bf16"
    assert AcceleratorResource(precision="fp32").resolve().precision == "fp32"


def test_bf16_on_other_cpus_only_when_asked(no_cuda, native_bf16):
    native_bf16(False)
    assert AcceleratorResource(precision="bf16").resolve().precision == "bf16"
    assert AcceleratorResource(device="cpu").resolve().precision == "fp32"


def test_impossible_requests_fail_clearly(no_cuda):
    with pytest.raises(ValueError, match="no CUDA device"):
        AcceleratorResource(device="cuda").resolve()
    with pytest.raises(ValueError, match=r"fp16.*needs a CUDA device"):
        AcceleratorResource(device="cpu", precision="fp16").resolve()


def test_auto_precision_on_gpus(fake_cuda):
    fake_cuda(True)
    assert AcceleratorResource().resolve() == DeviceSettings(
        "cuda", "bf16", torch.get_num_threads(), "Fake GPU"
    )
    fake_cuda(False)
    assert AcceleratorResource().resolve().precision == "fp16"
    with pytest.raises(ValueError, match="not supported by Fake GPU"):
        AcceleratorResource(precision="bf16").resolve()
    assert AcceleratorResource(device="cpu").resolve().device == "cpu"


def test_num_threads_is_applied_and_reported(no_cuda, restore_threads):
    torch.set_num_threads(2)
    assert AcceleratorResource(num_threads=1).resolve().num_threads == 1
    assert torch.get_num_threads() == 1
    assert AcceleratorResource(num_threads=0).resolve().num_threads == 1  # 0 leaves it as it is


def test_unknown_values_are_rejected_by_config_validation():
    with pytest.raises(pydantic.ValidationError):
        AcceleratorResource(device="tpu")
    with pytest.raises(pydantic.ValidationError):
        AcceleratorResource(num_threads=-1)
