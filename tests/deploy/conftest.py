"""Session-scoped real servers for the deployment tests, and a summary of their start/stop times."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from tests.deploy.servers import PostgresServer, S3Server, postgres_server, seaweedfs_server

BUCKET = "ft-artifacts"
LOG_BUCKET = "ft-compute-logs"
DEPLOY_YAML = Path(__file__).parents[2] / "deploy" / "dagster.yaml"
# Filled as the servers and the end-to-end runs finish; printed once at the end of the session.
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        TIMINGS["postgres initdb"] = server.initdb_s
        TIMINGS["postgres start"] = server.server.timings.start_s
        yield server
    TIMINGS["postgres stop"] = server.server.timings.stop_s


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with seaweedfs_server((BUCKET, LOG_BUCKET)) as server:
        TIMINGS["seaweedfs start"] = server.server.timings.start_s
        yield server
    TIMINGS["seaweedfs stop"] = server.server.timings.stop_s


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The standard AWS variables pointed at the test server, for this test only."""
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FSSPEC_S3_ENDPOINT_URL", raising=False)
    return s3_server


@pytest.fixture
def deployed_home(
    tmp_path: Path, postgres: PostgresServer, s3_env: S3Server, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A DAGSTER_HOME holding deploy/dagster.yaml unchanged, its variables pointing at the test servers."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_YAML, home / "dagster.yaml")
    env = {**postgres.env, "DAGSTER_PG_DB": postgres.create_database(f"instance_{uuid.uuid4().hex[:12]}")}
    env["FT_COMPUTE_LOG_BUCKET"] = LOG_BUCKET
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def deployed_instance(deployed_home: Path) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(deployed_home))) as instance:
        yield instance


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        figures = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in TIMINGS.items())
        terminalreporter.write_line(f"deploy timings: {figures}")
