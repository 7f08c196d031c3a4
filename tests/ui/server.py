"""Start `dagster dev` in its own process group and stop exactly what was started."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

# A child started from a non-interactive shell inherits SIGINT as ignored, and Dagster maps SIGTERM to its
# SIGINT handler; restore SIGINT before exec so `dagster dev` and its children stop the way Ctrl-C stops them.
RESTORE_SIGINT = (
    "import os,signal,sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])"
)

# Runs come from the test alone: the asset daemon (automation conditions) is off, sensors still tick.
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
    """Processes whose environment holds name=value (zombies have none)."""
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


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes whose process group is pgid."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@dataclass
class DagsterDevServer:
    """`dagster dev` on a free loopback port against its own DAGSTER_HOME, started from `cwd` (`make ui`)."""

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
        serve = ["dev", "-h", "127.0.0.1", "-p", str(self.port)]  # what `make ui` runs, on a free port
        command = [sys.executable, "-c", RESTORE_SIGINT, dagster, *serve]
        env = {**os.environ, **self.env, "DAGSTER_HOME": str(self.dagster_home)}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_until_up(self, timeout: float) -> None:
        def answers() -> bool:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"dagster dev exited early; see {self.log_path}")
            try:
                return requests.get(f"{self.url}/server_info", timeout=2).ok
            except requests.RequestException:
                return False

        if not wait_until(answers, timeout, interval=0.5):
            raise TimeoutError(f"no answer on {self.url} after {timeout:.0f}s; see {self.log_path}")

    def alive(self) -> list[int]:
        """Live processes of this server: its process group, plus anything else carrying its DAGSTER_HOME."""
        if self.process is None:
            return []
        members = group_members(self.process.pid)  # start_new_session: the leader's pid is the group id
        return sorted({*members, *pids_with_env("DAGSTER_HOME", str(self.dagster_home))})

    def is_gone(self) -> bool:
        return self.process is not None and self.process.poll() is not None and not self.alive()

    def stop(self, grace: float = 20.0) -> None:
        """Ctrl-C (SIGINT to the group), then SIGTERM and SIGKILL for whatever it started that remains."""
        if self.process is None:
            return
        process = self.process
        self._signal(signal.SIGINT)
        wait_until(lambda: process.poll() is not None, grace)
        # Code servers outlive `dagster dev` until their heartbeat times out; they hold nothing to save.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not self.is_gone():
                self._signal(sig)
                wait_until(self.is_gone, 5)
        process.wait(timeout=5)

    def _signal(self, sig: signal.Signals) -> None:
        for pid in self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
