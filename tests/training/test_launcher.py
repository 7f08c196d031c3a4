"""TrainingLauncher: the commands and the Kubernetes pod it launches, and the DDP backend each rank picks."""

import pytest
import torch
from dagster_k8s.pipes import build_pod_body

from ft_assets.training.arguments import build_training_arguments, ddp_backend
from ft_assets.training.job import TrainJob
from ft_resources.accelerator import AcceleratorResource
from ft_resources.k8s import GPUS_PER_STEP_ENV, NODE_SELECTOR_ENV
from ft_resources.training_launcher import ENTRYPOINT_MODULE, TrainingLauncher
from tests.training.conftest import CPU, tiny_config

ARTIFACTS = "/mnt/artifacts"
PIPES_ENV = {"DAGSTER_PIPES_CONTEXT": "ctx", "DAGSTER_PIPES_MESSAGES": "msgs"}


def _job() -> TrainJob:
    return TrainJob(
        dataset_path=f"{ARTIFACTS}/tokenized_dataset/abc",
        label_names=["a", "b"],
        base_model="/models/minilm",
        config=tiny_config().model_dump(),
        accelerator={"device": "auto"},
        output_dir=f"{ARTIFACTS}/fine_tuned_model/.v1.tmp",
        checkpoint_dir=f"{ARTIFACTS}/checkpoints/v1",
    )


def test_the_job_travels_as_json_and_comes_back_equal():
    job = _job()
    flag, payload = job.argv()
    assert flag == "--job" and TrainJob.model_validate_json(payload) == job


def test_subprocess_and_torchrun_run_the_same_entry_point():
    job = _job()
    single = TrainingLauncher(mode="subprocess").command(job)
    ddp = TrainingLauncher(mode="torchrun", nproc_per_node=4).command(job)
    assert single[1:] == ["-m", ENTRYPOINT_MODULE, *job.argv()]
    assert ddp[1:5] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=4"]
    assert ddp[5:] == single[1:]


def test_a_single_process_that_would_see_several_gpus_runs_one_rank_per_gpu(monkeypatch):
    """A pod (FT_K8S_GPUS=4) or machine with 4 GPUs: one process would make the Trainer wrap the model
    in nn.DataParallel (4x the configured batch, a path nothing tests), so each GPU gets a DDP rank."""
    job = _job()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    launcher = TrainingLauncher(mode="subprocess")
    assert launcher.command(job)[1:5] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=4"]
    assert launcher.describe() == "subprocess: torchrun, 4 processes (one per GPU)"
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert launcher.command(job)[1:3] == ["-m", ENTRYPOINT_MODULE]


def test_torchrun_on_cpu_gives_each_rank_one_thread(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert TrainingLauncher(mode="torchrun").process_env() == {"OMP_NUM_THREADS": "1"}
    assert TrainingLauncher(mode="subprocess").process_env() == {}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert TrainingLauncher(mode="torchrun").process_env() == {}


def _fake_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *args: "NVIDIA H100")


def test_each_torchrun_rank_picks_nccl_on_gpus_and_gloo_on_cpus(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    _fake_gpu(monkeypatch)
    gpu = AcceleratorResource().resolve()
    assert (gpu.device, gpu.precision) == ("cuda", "bf16")
    assert ddp_backend(gpu) == "nccl"
    assert ddp_backend(AcceleratorResource(device="cpu").resolve()) == "gloo"


def test_a_single_process_forces_no_backend(monkeypatch):
    # ddp_backend="gloo" set unconditionally breaks single-process Trainer runs.
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    _fake_gpu(monkeypatch)
    assert ddp_backend(AcceleratorResource().resolve()) is None


def _pod(launcher: TrainingLauncher) -> dict:
    arguments = launcher.k8s_run_arguments(_job())
    # What PipesK8sClient.run submits, rendered offline.
    pod = build_pod_body(
        pod_name="train-v1",
        image=arguments["image"],
        command=arguments["command"],
        env_vars=PIPES_ENV,
        base_pod_meta=None,
        base_pod_spec=arguments["base_pod_spec"],
    )
    assert arguments["namespace"] == "ml"
    return pod.to_dict()


K8S = {
    "mode": "k8s",
    "image": "registry.example/ft-pipeline:1.2",
    "namespace": "ml",
    "artifacts_claim": "ft-artifacts",
    "artifacts_mount": ARTIFACTS,
}


def test_the_k8s_pod_asks_for_a_gpu_node_and_mounts_the_artifacts(monkeypatch):
    monkeypatch.delenv(GPUS_PER_STEP_ENV, raising=False)
    monkeypatch.delenv(NODE_SELECTOR_ENV, raising=False)
    spec = _pod(TrainingLauncher(**K8S, service_account="trainer"))["spec"]
    [container] = spec["containers"]
    assert container["image"] == "registry.example/ft-pipeline:1.2"
    assert container["command"][:3] == ["python", "-m", ENTRYPOINT_MODULE]
    assert TrainJob.model_validate_json(container["command"][4]) == _job()
    assert container["resources"]["limits"] == {"nvidia.com/gpu": "1"}
    assert container["resources"]["requests"] == {"nvidia.com/gpu": "1"}
    assert {e["name"]: e["value"] for e in container["env"]} == PIPES_ENV
    assert container["volume_mounts"][0]["mount_path"] == ARTIFACTS
    assert spec["volumes"][0]["persistent_volume_claim"]["claim_name"] == "ft-artifacts"
    assert spec["node_selector"] == {"nvidia.com/gpu.present": "true"}
    assert spec["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert spec["service_account_name"] == "trainer"
    assert spec["restart_policy"] == "Never"


def test_a_multi_gpu_pod_runs_torchrun_over_its_gpus(monkeypatch):
    monkeypatch.setenv(GPUS_PER_STEP_ENV, "4")
    monkeypatch.setenv(NODE_SELECTOR_ENV, '{"gpu-type": "a100"}')
    spec = _pod(TrainingLauncher(**K8S))["spec"]
    [container] = spec["containers"]
    assert container["command"][:3] == ["torchrun", "--standalone", "--nproc_per_node=4"]
    assert container["command"][3:5] == ["-m", ENTRYPOINT_MODULE]
    assert container["resources"]["limits"] == {"nvidia.com/gpu": "4"}
    assert spec["node_selector"] == {"gpu-type": "a100"}


@pytest.mark.parametrize(
    ("missing", "message"), [("image", "needs image"), ("artifacts_claim", "needs artifacts_claim")]
)
def test_k8s_without_an_image_or_shared_artifacts_is_refused(missing, message):
    with pytest.raises(ValueError, match=message):
        TrainingLauncher(**{**K8S, missing: ""}).k8s_run_arguments(_job())


def test_k8s_refuses_a_job_whose_files_the_pod_would_not_see():
    job = _job().model_copy(update={"checkpoint_dir": "/tmp/checkpoints/v1"})
    with pytest.raises(ValueError, match="/tmp/checkpoints/v1 is not under artifacts_mount"):
        TrainingLauncher(**K8S).k8s_run_arguments(job)


def test_trainer_arguments_for_data_parallel_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    args = build_training_arguments(tiny_config(), CPU, tmp_path)
    # True would scale the loss by the world size wherever the Trainer computes it (transformers 35078).
    assert args.average_tokens_across_devices is False
    assert args.ddp_find_unused_parameters is False
    assert args.ddp_backend is None
