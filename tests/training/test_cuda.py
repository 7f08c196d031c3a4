"""Training on CUDA: skipped where torch sees no GPU (CI, the 2-core box); run on a lent GPU machine.

The same tiny job without dropout on CUDA in fp32 must reproduce the CPU run's losses and weights, and
the launcher's torchrun mode must train on every visible GPU (NCCL between them when there are several)
in the precision ``auto`` picks, with the ranks ending in sync.
"""

from pathlib import Path

import pytest
import torch

from ft_assets.training import train_classifier
from ft_resources.accelerator import AcceleratorResource
from ft_resources.training_launcher import TrainingLauncher
from tests.conftest import TINY_LABELS
from tests.training.conftest import CPU, LogCapture, launch, launcher_job, tiny_config, weights

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

EPOCHS = 2


def test_cuda_fp32_training_reproduces_the_cpu_run(tiny_dataset, no_dropout_model: Path, tmp_path: Path):
    # TF32 off (torch's default) keeps CUDA's matrix products in full fp32, comparable with the CPU's.
    assert not torch.backends.cuda.matmul.allow_tf32
    cuda = AcceleratorResource(device="cuda", precision="fp32").resolve()
    runs = {}
    for name, device in (("cpu", CPU), ("cuda", cuda)):
        runs[name] = train_classifier(
            tiny_dataset, TINY_LABELS, no_dropout_model, tiny_config(epochs=EPOCHS), device,
            tmp_path / name / "model", tmp_path / name / "checkpoints", LogCapture(),
        )  # fmt: skip
    assert runs["cuda"].device == "cuda"
    cpu_losses = [e["eval_loss"] for e in runs["cpu"].evaluations]
    cuda_losses = [e["eval_loss"] for e in runs["cuda"].evaluations]
    assert cuda_losses == pytest.approx(cpu_losses, rel=1e-3), (cpu_losses, cuda_losses)
    cpu_weights, cuda_weights = weights(runs["cpu"].model_dir), weights(runs["cuda"].model_dir)
    worst = max(float((cuda_weights[n] - cpu_weights[n]).abs().max()) for n in cpu_weights)
    assert worst < 1e-3, worst


def test_torchrun_trains_on_every_gpu_in_auto_precision(tiny_dataset, no_dropout_model: Path, tmp_path: Path):
    gpus = torch.cuda.device_count()
    dataset_dir = tmp_path / "dataset"
    tiny_dataset.save_to_disk(str(dataset_dir))
    job = launcher_job(
        tmp_path, dataset_dir, no_dropout_model, epochs=EPOCHS, batch_size=42 // gpus, eval_batch_size=5,
        accelerator={"device": "auto", "precision": "auto"},
    )  # fmt: skip
    metadata, lines = launch(job, TrainingLauncher(mode="torchrun", nproc_per_node=gpus))
    summary = metadata["outcome"]["summary"]
    assert summary["device"] == "cuda"
    assert summary["precision"] == AcceleratorResource().resolve().precision
    assert summary["world_size"] == gpus
    assert metadata["ranks_in_sync"] is True
    assert len([line for line in lines if line.startswith("eval at step")]) == EPOCHS
