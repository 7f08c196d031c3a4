"""Session-scoped real servers for the deployment tests, and a summary of their start/stop times."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.deploy.servers import PostgresServer, S3Server, postgres_server, seaweedfs_server

BUCKET = "ft-artifacts"
LOG_BUCKET = "ft-compute-logs"
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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        figures = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in TIMINGS.items())
        terminalreporter.write_line(f"deploy timings: {figures}")
