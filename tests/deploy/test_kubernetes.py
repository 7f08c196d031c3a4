"""The Kubernetes deployment, checked without a cluster: values, Dockerfile, and the step Jobs that
dagster-k8s's own builders render for the training step and for a CPU step."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster_k8s import k8s_job_executor
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import (
    DagsterK8sJobConfig,
    construct_dagster_k8s_job,
    get_user_defined_k8s_config,
)

from ft_resources import k8s

ROOT = Path(__file__).parents[2]
VALUES = yaml.safe_load((ROOT / "deploy" / "helm" / "values.yaml").read_text())
[DEPLOYMENT] = VALUES["dagster-user-deployments"]["deployments"]
IMAGE = f"{DEPLOYMENT['image']['repository']}:{DEPLOYMENT['image']['tag']}"
ENV = {item["name"]: item["value"] for item in DEPLOYMENT["env"]}
# The chart's defaults for what the values file leaves alone.
DAGSTER_HOME = "/opt/dagster/dagster_home"
INSTANCE_CONFIG_MAP = "dagster-instance"


def test_values_describe_the_conventional_deployment():
    assert VALUES["runLauncher"]["type"] == "K8sRunLauncher"
    assert VALUES["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert VALUES["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    logs = VALUES["computeLogManager"]
    assert logs["type"] == "S3ComputeLogManager"
    assert logs["config"]["s3ComputeLogManager"]["bucket"]
    # The two deployment targets say the same, key for key: one the chart lacks gets the chart's default
    # (free_slots_after_run_end_seconds: 0, slots never freed, drifted in before this comparison).
    instance = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    assert VALUES["dagsterDaemon"]["runMonitoring"] == _camel(instance["run_monitoring"])
    assert VALUES["concurrency"] == {"enabled": True, **_camel(instance["concurrency"])}
    # The code location the image serves is the project's Definitions module.
    assert DEPLOYMENT["dagsterApiGrpcArgs"] == ["-m", "ft_assets.definitions"]
    assert (ROOT / "ft_assets" / "definitions.py").is_file()
    assert ENV["FT_EXECUTOR"] == "k8s"
    assert ENV["FT_ARTIFACTS_DIR"].startswith("s3://")


def test_no_credential_is_written_into_the_values():
    text = (ROOT / "deploy" / "helm" / "values.yaml").read_text()
    assert "AWS_SECRET_ACCESS_KEY" not in ENV and "AWS_ACCESS_KEY_ID" not in ENV
    assert not re.search(r"(?i)^\s*(postgresqlPassword|secretKey|password)\s*:", text, re.MULTILINE)
    assert {"name": "ft-s3-credentials"} in DEPLOYMENT["envSecrets"]


def _camel(config: dict[str, Any]) -> dict[str, Any]:
    """dagster.yaml's snake_case keys as the chart's values spell them, nested blocks included."""
    return {
        re.sub(r"_(\w)", lambda m: m[1].upper(), key): _camel(value) if isinstance(value, dict) else value
        for key, value in config.items()
    }


@pytest.fixture
def values_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The code location's environment as the values file sets it."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def render_step_job(tags: dict[str, str]) -> Any:
    """The V1Job k8s_job_executor would submit for a step with `tags`, built as its launch_step does."""
    launcher = VALUES["runLauncher"]["config"]["k8sRunLauncher"]
    assert "runK8sConfig" not in launcher  # the code location's resources would override it (below)
    run_context = K8sContainerContext(env_secrets=[s["name"] for s in launcher["envSecrets"]])
    # includeConfigInLaunchedRuns: the code location's env, secrets, volumes and resources travel with each
    # run (the chart's user-deployment helpers write them into its container context), merged after the
    # launcher's, so they win.
    location_context = K8sContainerContext(
        env=DEPLOYMENT["env"],
        env_secrets=[s["name"] for s in DEPLOYMENT["envSecrets"]],
        volumes=DEPLOYMENT["volumes"],
        volume_mounts=DEPLOYMENT["volumeMounts"],
        resources=DEPLOYMENT.get("resources"),
    )
    context = run_context.merge(location_context).merge(
        K8sContainerContext(run_k8s_config=get_user_defined_k8s_config(tags))
    )
    job_config = DagsterK8sJobConfig(
        job_image=IMAGE,
        dagster_home=DAGSTER_HOME,
        instance_config_map=INSTANCE_CONFIG_MAP,
        postgres_password_secret=VALUES["global"]["postgresqlSecretName"],
    )
    return construct_dagster_k8s_job(
        job_config=job_config,
        args=["dagster", "api", "execute_step"],
        job_name="dagster-step-test",
        component="step_worker",
        user_defined_k8s_config=context.run_k8s_config,
    )


def op_tags(key: str) -> dict[str, str]:
    from ft_assets.assets.onnx import onnx_model
    from ft_assets.assets.training import fine_tuned_model

    asset = {"fine_tuned_model": fine_tuned_model, "onnx_model": onnx_model}[key]
    return dict(asset.op.tags)


def test_the_training_step_job_requests_a_gpu_on_a_gpu_node(values_env):
    job = render_step_job(op_tags("fine_tuned_model"))
    pod = job.spec.template.spec
    [container] = pod.containers
    assert container.image == IMAGE
    assert container.resources.limits == {"nvidia.com/gpu": "1"}
    # The run-level CPU and memory requests survive next to the step's GPU request.
    assert container.resources.requests == {"cpu": "1", "memory": "2Gi", "nvidia.com/gpu": "1"}
    assert pod.node_selector == {"nvidia.com/gpu.present": "true"}
    security = container.security_context
    assert security.run_as_non_root and security.allow_privilege_escalation is False
    assert security.capabilities.drop == ["ALL"] and pod.automount_service_account_token is False
    assert [t.to_dict() for t in pod.tolerations] == [
        {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists", "toleration_seconds": None,
         "value": None}
    ]  # fmt: skip
    env = {e.name: e for e in container.env}
    assert env["DAGSTER_HOME"].value == DAGSTER_HOME
    assert env["DAGSTER_PG_PASSWORD"].value_from.secret_key_ref.name == "dagster-postgresql-secret"
    assert env["FT_ARTIFACTS_DIR"].value == ENV["FT_ARTIFACTS_DIR"]
    assert env["FT_EXECUTOR"].value == "k8s"
    assert "AWS_SECRET_ACCESS_KEY" not in env  # it arrives from the Secret, never as a literal
    assert [source.secret_ref.name for source in container.env_from if source.secret_ref] == [
        "ft-s3-credentials"
    ]
    volumes = {v.name: v for v in pod.volumes}
    assert volumes["ft-data"].persistent_volume_claim.claim_name == "ft-data"
    assert volumes["dshm"].empty_dir.medium == "Memory"
    mounts = {m.mount_path: m.name for m in container.volume_mounts}
    assert mounts["/data"] == "ft-data"
    assert mounts["/dev/shm"] == "dshm"


def test_the_asset_carries_the_tags_the_environment_configures(monkeypatch):
    assert json.loads(op_tags("fine_tuned_model")[k8s.K8S_CONFIG_TAG]) == k8s.gpu_k8s_config()
    monkeypatch.setenv(k8s.GPUS_PER_STEP_ENV, "4")
    monkeypatch.setenv(k8s.NODE_SELECTOR_ENV, '{"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"}')
    monkeypatch.setenv(k8s.TOLERATIONS_ENV, "[]")
    job = render_step_job({k8s.K8S_CONFIG_TAG: json.dumps(k8s.gpu_k8s_config())})
    pod = job.spec.template.spec
    assert pod.containers[0].resources.limits == {"nvidia.com/gpu": "4"}
    assert pod.node_selector == {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"}
    assert not pod.tolerations


def test_a_cpu_step_gets_no_gpu_and_no_gpu_node(values_env):
    job = render_step_job(op_tags("onnx_model"))
    pod = job.spec.template.spec
    assert "nvidia.com/gpu" not in (pod.containers[0].resources.limits or {})
    assert not pod.node_selector
    assert not pod.tolerations


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (k8s.GPUS_PER_STEP_ENV, "0", "FT_K8S_GPUS must be a whole number >= 1, got '0'"),
        (k8s.NODE_SELECTOR_ENV, "gpu=true", "FT_K8S_GPU_NODE_SELECTOR must be JSON (dict)"),
        (k8s.TOLERATIONS_ENV, '{"key": "x"}', "FT_K8S_GPU_TOLERATIONS must be a JSON list, got dict"),
    ],
)
def test_a_bad_gpu_setting_is_one_clear_line(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=re.escape(message)):
        k8s.gpu_k8s_config()


def test_the_executor_switch(monkeypatch):
    monkeypatch.delenv(k8s.EXECUTOR_ENV, raising=False)
    assert k8s.run_executor() is None
    monkeypatch.setenv(k8s.EXECUTOR_ENV, "k8s")
    assert k8s.run_executor() is k8s_job_executor
    monkeypatch.setenv(k8s.EXECUTOR_ENV, "celery")
    with pytest.raises(ValueError, match="FT_EXECUTOR must be one of default, k8s, got 'celery'"):
        k8s.run_executor()


def _pip_install_args(text: str) -> list[str]:
    [line] = [
        line for line in text.replace("\\\n", " ").splitlines() if "-m pip install" in line and " -e " in line
    ]
    args = shlex.split(line.rsplit("-m pip install", 1)[1].split("&&")[0])
    return [arg for arg in args if not arg.startswith("--")]


def test_the_dockerfile_installs_what_the_makefile_installs_and_copies_what_exists():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    makefile = _pip_install_args((ROOT / "Makefile").read_text())
    image = _pip_install_args(dockerfile)
    # Same packages and extras, less the developer tools.
    assert image == [arg.replace("[dev,deploy]", "[deploy]") for arg in makefile]
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"deploy/Dockerfile copies {source}, which does not exist"
    assert re.search(r"^USER \d+$", dockerfile, re.MULTILINE), "the image must not run as root"
