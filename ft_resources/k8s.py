"""What a GPU step asks of Kubernetes, and which executor runs the steps: defined here once.

The training asset carries these as its `dagster-k8s/config` op tags, which `k8s_job_executor` (and the
K8sRunLauncher) turn into the step pod's resources, node selector and tolerations. Off Kubernetes the
tags are inert. Everything is configurable through the environment of the code location.
"""

from __future__ import annotations

import json
import os
from typing import Any

import dagster as dg

K8S_CONFIG_TAG = "dagster-k8s/config"
GPU_RESOURCE = "nvidia.com/gpu"

GPUS_PER_STEP_ENV = "FT_K8S_GPUS"
NODE_SELECTOR_ENV = "FT_K8S_GPU_NODE_SELECTOR"
TOLERATIONS_ENV = "FT_K8S_GPU_TOLERATIONS"
EXECUTOR_ENV = "FT_EXECUTOR"

# The label NVIDIA's GPU feature discovery puts on GPU nodes, and the taint GPU node pools usually carry.
DEFAULT_NODE_SELECTOR = {"nvidia.com/gpu.present": "true"}
DEFAULT_TOLERATIONS = [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
EXECUTORS = ("default", "k8s")


def _json_env(name: str, default: Any, kind: type) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{name} must be JSON ({kind.__name__}): {error.msg} at column {error.pos + 1}"
        ) from None
    if not isinstance(value, kind):
        raise ValueError(f"{name} must be a JSON {kind.__name__}, got {type(value).__name__}")
    return value


def gpus_per_step() -> int:
    raw = os.environ.get(GPUS_PER_STEP_ENV, "1").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{GPUS_PER_STEP_ENV} must be a whole number >= 1, got {raw!r}")
    return int(raw)


def gpu_k8s_config() -> dict[str, Any]:
    """The user-defined k8s config of a GPU step: a GPU limit, GPU nodes, and the GPU taint tolerated."""
    gpus = str(gpus_per_step())
    return {
        # Extended resources such as GPUs are requested through limits; requests must equal them.
        "container_config": {
            "resources": {"limits": {GPU_RESOURCE: gpus}, "requests": {GPU_RESOURCE: gpus}},
            # The step reads training data and runs third-party code: no root, no privilege, no capability.
            "security_context": {
                "run_as_non_root": True,
                "allow_privilege_escalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
        },
        "pod_spec_config": {
            # It never calls the Kubernetes API, so it carries no token that a compromised step could use.
            "automount_service_account_token": False,
            "node_selector": _json_env(NODE_SELECTOR_ENV, DEFAULT_NODE_SELECTOR, dict),
            "tolerations": _json_env(TOLERATIONS_ENV, DEFAULT_TOLERATIONS, list),
        },
    }


def gpu_op_tags() -> dict[str, Any]:
    return {K8S_CONFIG_TAG: gpu_k8s_config()}


def run_executor() -> dg.ExecutorDefinition | None:
    """`FT_EXECUTOR=k8s`: every step in its own Kubernetes Job; otherwise Dagster's default executor."""
    choice = os.environ.get(EXECUTOR_ENV, "default").strip() or "default"
    if choice not in EXECUTORS:
        raise ValueError(f"{EXECUTOR_ENV} must be one of {', '.join(EXECUTORS)}, got {choice!r}")
    if choice == "default":
        return None
    # Only deployments install dagster-k8s (the `deploy` extra); one machine never imports it.
    from dagster_k8s import k8s_job_executor

    return k8s_job_executor
