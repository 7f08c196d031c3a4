"""Where the training entry point runs: this process, a subprocess, torchrun, or a Kubernetes GPU pod.

Every mode runs the same module, ``ft_assets.training.entrypoint``, through Dagster Pipes, so progress
lines, the outcome and the materialization metadata come back the same way whichever is chosen.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import torch
from dagster_pipes import PipesMappingParamsLoader
from pydantic import Field

from ft_assets.training import entrypoint
from ft_assets.training.job import TrainJob
from ft_resources.k8s import gpu_k8s_config

Mode = Literal["in_process", "subprocess", "torchrun", "k8s"]
ENTRYPOINT_MODULE = entrypoint.__name__
CONTAINER_NAME = "training"


class TrainingLauncher(dg.ConfigurableResource):
    """Launches one training job through a Dagster Pipes client chosen by ``mode``."""

    mode: Mode = Field(
        default="subprocess",
        description=(
            "subprocess: a fresh Python process on this machine (one per GPU, under torchrun, where it "
            "sees several). torchrun: nproc_per_node data-parallel "
            "processes here (gloo on CPU, NCCL on GPUs). k8s: a pod on a GPU node (PipesK8sClient). "
            "in_process: the same entry point inside the step's own process (tests, debugging)."
        ),
    )
    nproc_per_node: int = Field(default=2, ge=1, description="torchrun: processes (one per GPU on GPUs).")
    image: str = Field(default="", description="k8s: the image holding this project (ft_assets installed).")
    namespace: str = Field(default="default", description="k8s: namespace of the training pod.")
    service_account: str = Field(default="", description="k8s: service account of the pod; empty = default.")
    artifacts_claim: str = Field(
        default="",
        description=(
            "k8s: PersistentVolumeClaim holding the artifacts root, mounted in the pod at the same path, "
            "so the pod reads the dataset and writes checkpoints and the model where the run expects them."
        ),
    )
    artifacts_mount: str = Field(
        default="", description="k8s: the path the claim is mounted at in both pods."
    )

    def run(self, context: dg.AssetExecutionContext, job: TrainJob) -> dg.PipesClientCompletedInvocation:
        context.log.info(f"launching training ({self.describe()})")
        if self.mode == "in_process":
            return self._run_in_process(context, job)
        if self.mode == "k8s":
            from dagster_k8s import PipesK8sClient  # only deployments install dagster-k8s

            return PipesK8sClient().run(context=context, **self.k8s_run_arguments(job))
        return dg.PipesSubprocessClient(env=self.process_env()).run(
            context=context, command=self.command(job)
        )

    def describe(self) -> str:
        if self.mode == "torchrun":
            return f"torchrun, {self.nproc_per_node} processes"
        if self.mode == "k8s":
            return f"k8s pod in {self.namespace}, image {self.image}"
        if (ranks := self._ranks()) > 1:
            return f"{self.mode}: torchrun, {ranks} processes (one per GPU)"
        return self.mode

    def _ranks(self) -> int:
        """Processes to start: nproc_per_node under torchrun; else one, or one per GPU when the process
        would see several (a pod given FT_K8S_GPUS > 1, a multi-GPU machine). One process on several GPUs
        makes the Trainer wrap the model in nn.DataParallel: the batch silently multiplied by the GPU
        count, and a path that the tested DDP one is not."""
        if self.mode == "torchrun":
            return self.nproc_per_node
        if self.mode == "subprocess" and torch.cuda.is_available():
            return max(torch.cuda.device_count(), 1)
        return 1

    def command(self, job: TrainJob) -> list[str]:
        entry = ["-m", ENTRYPOINT_MODULE, *job.argv()]
        if (ranks := self._ranks()) == 1 and self.mode != "torchrun":
            return [sys.executable, *entry]
        # python -m torch.distributed.run is torchrun, without depending on PATH.
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        return [*launcher, f"--nproc_per_node={ranks}", *entry]

    def process_env(self) -> dict[str, str]:
        if self.mode == "torchrun" and not torch.cuda.is_available():
            # Each rank is one CPU worker; OpenMP threads per rank would fight over the same cores.
            return {"OMP_NUM_THREADS": "1"}
        return {}

    def k8s_run_arguments(self, job: TrainJob) -> dict[str, Any]:
        """What PipesK8sClient.run gets (besides the context): the pod is one GPU step of ft_resources.k8s."""
        if not self.image:
            raise ValueError("TrainingLauncher(mode='k8s') needs image: one with this project installed")
        if not (self.artifacts_claim and self.artifacts_mount):
            raise ValueError(
                "TrainingLauncher(mode='k8s') needs artifacts_claim and artifacts_mount: the pod must see "
                "the artifacts root at the path this run uses"
            )
        for path in (job.dataset_path, job.output_dir, job.checkpoint_dir):
            if not Path(path).is_relative_to(self.artifacts_mount):
                raise ValueError(
                    f"{path} is not under artifacts_mount {self.artifacts_mount}: the pod cannot see it"
                )
        gpu = gpu_k8s_config()
        gpus = int(gpu["container_config"]["resources"]["limits"]["nvidia.com/gpu"])
        entry = ["python", "-m", ENTRYPOINT_MODULE, *job.argv()]
        if gpus > 1:
            entry = ["torchrun", "--standalone", f"--nproc_per_node={gpus}", *entry[1:]]
        spec: dict[str, Any] = {
            "containers": [
                {
                    "name": CONTAINER_NAME,
                    **gpu["container_config"],
                    "volume_mounts": [{"name": "artifacts", "mount_path": self.artifacts_mount}],
                }
            ],
            **gpu["pod_spec_config"],
            "volumes": [
                {"name": "artifacts", "persistent_volume_claim": {"claim_name": self.artifacts_claim}}
            ],
        }
        if self.service_account:
            spec["service_account_name"] = self.service_account
        return {
            "image": self.image,
            "command": entry,
            "namespace": self.namespace,
            "base_pod_spec": spec,
        }

    @staticmethod
    def _run_in_process(
        context: dg.AssetExecutionContext, job: TrainJob
    ) -> dg.PipesClientCompletedInvocation:
        # A real Pipes session whose "external process" is this one: the same entry point, no new interpreter.
        with dg.open_pipes_session(
            context=context,
            context_injector=dg.PipesTempFileContextInjector(),
            message_reader=dg.PipesTempFileMessageReader(),
        ) as session:
            entrypoint.run(job, params_loader=PipesMappingParamsLoader(session.get_bootstrap_env_vars()))
        return dg.PipesClientCompletedInvocation(session)
