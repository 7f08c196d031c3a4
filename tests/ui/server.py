"""Start `dagster dev` in its own process group and stop exactly what was started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

# A child started from a non-interactive shell inherits SIGINT as ignored (ARCHITECTURE.md); restore it
# before exec so `dagster dev` and its children can be stopped the way Ctrl-C stops them.
RESTORE_SIGINT = "import os,signal,sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])"

# Runs are launched by the test, never by automation: the asset daemon (automation conditions) is off.
INSTANCE_YAML = """\
telemetry:
  enabled: false
nux:
  enabled: false
auto_materialize:
  enabled: false
  use_sensors: false
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_instance_yaml(dagster_home: Path) -> Path:
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    path.write_text(INSTANCE_YAML)
    return path


def pids_with_env(name: str, value: str) -> list[int]:
    """Processes whose environment holds name=value: everything this server started, wherever it went."""
    needle = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


@dataclass
class DagsterDevServer:
    """`dagster dev` on a free loopback port against its own DAGSTER_HOME, started from `cwd`."""

    cwd: Path
    dagster_home: Path
    env: Mapping[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        write_instance_yaml(self.dagster_home)
        dagster = str(Path(sys.executable).parent / "dagster")
        command = [sys.executable, "-c", RESTORE_SIGINT, dagster, "dev", "-h", "127.0.0.1", "-p", str(self.port)]
        env = {**os.environ, **self.env, "DAGSTER_HOME": str(self.dagster_home)}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"dagster dev exited early; see {self.log_path}")
            try:
                if requests.get(f"{self.url}/server_info", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"dagster dev did not answer on {self.url} within {timeout:.0f}s; see {self.log_path}")

    def leftovers(self) -> list[int]:
        return pids_with_env("DAGSTER_HOME", str(self.dagster_home))

    def stop(self, grace: float = 20.0) -> None:
        """SIGINT to the process group (as Ctrl-C would), then SIGKILL whatever it started that remains."""
        if self.process is None:
            return
        pgid = self.process.pid  # start_new_session: the leader's pid is the group id
        for sig, wait in ((signal.SIGINT, grace), (signal.SIGKILL, 5.0)):
            if self.process.poll() is None or self.leftovers():
                try:
                    os.killpg(pgid, sig)
                except ProcessLookupError:
                    pass
                for pid in self.leftovers():  # a run worker that left the group still carries our DAGSTER_HOME
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
                deadline = time.monotonic() + wait
                while time.monotonic() < deadline and (self.process.poll() is None or self.leftovers()):
                    time.sleep(0.2)
        self.process.wait(timeout=5)

    def is_gone(self) -> bool:
        if self.process is None or self.process.poll() is None:
            return False
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return not self.leftovers()
        return False
