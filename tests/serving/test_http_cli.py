"""ft-serve's command line: a bad argument is exit 2 and a line naming it, never a traceback or a spin."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from ft_serving.http.cli import GRACEFUL_SHUTDOWN_S
from ft_serving.http.limits import Limits

BAD_ARGUMENTS = {
    "poll interval zero": (["--poll-interval", "0"], "--poll-interval"),
    "poll interval negative": (["--poll-interval", "-1"], "--poll-interval"),
    "poll interval not a number": (["--poll-interval", "nan"], "--poll-interval"),
    "body timeout zero": (["--body-timeout", "0"], "--body-timeout"),
    "port too large": (["--port", "70000"], "--port"),
    "port negative": (["--port", "-1"], "--port"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS, ids=list(BAD_ARGUMENTS))
def test_bad_arguments_exit_2_with_one_line(case, tmp_path):
    arguments, named = BAD_ARGUMENTS[case]
    # --port 0 first: a server that wrongly starts takes a free port, and the timeout ends it.
    process = subprocess.run(
        [sys.executable, "-m", "ft_serving.http.cli", "--port", "0", *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "FT_ARTIFACTS_DIR": str(tmp_path)},
    )
    assert process.returncode == 2, process.stderr
    assert process.stdout == "" and "Traceback" not in process.stderr
    last = process.stderr.strip().splitlines()[-1]
    assert last.startswith("ft-serve: ") and named in last


# 192.0.2.1 (TEST-NET-1) is never a local address: bind fails with no packet sent, no DNS lookup.
@pytest.mark.parametrize("host", ["192.0.2.1", "ü" * 70], ids=["not-local", "not encodable"])
def test_an_address_that_cannot_be_bound_exits_2_with_one_line(tmp_path, host):
    process = subprocess.run(
        [sys.executable, "-m", "ft_serving.http.cli", "--host", host, "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "FT_ARTIFACTS_DIR": str(tmp_path)},
    )
    assert process.returncode == 2 and process.stdout == ""
    (line,) = process.stderr.strip().splitlines()
    assert line.startswith(f"ft-serve: cannot bind {host}:0: ")


def test_a_stalled_body_times_out_before_shutdown_gives_up_on_it():
    assert Limits().body_timeout_s < GRACEFUL_SHUTDOWN_S
