"""Clients that stall cannot hold a real ft-serve forever: a late body gets 408, connections are bounded."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import httpx

from tests.serving.test_http_server import start_server, stop

HEAD = (
    b"POST /v1/predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n"
)


def stalled_upload(url: str) -> socket.socket:
    """A connection that sent its headers and part of the promised body, then nothing."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    sock.sendall(HEAD + b'{"texts": ["the rest never comes')
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, object]]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed without an answer: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    length = int(next(value for name, value in headers.items() if name.lower() == "content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return int(lines[0].split()[1]), json.loads(body)


def test_a_body_that_stops_arriving_gets_408(bundle_dir):
    process, url = start_server("--model", str(bundle_dir), "--body-timeout", "1")
    try:
        with stalled_upload(url) as sock:
            started = time.monotonic()
            status, answer = read_response(sock)
            waited = time.monotonic() - started
        assert status == 408
        assert answer["reason"] == "body_timeout" and "1 s" in answer["error"]
        assert 0.5 < waited < 10
        metrics = httpx.get(f"{url}/metrics").text
        assert 'ft_serve_request_errors_total{reason="body_timeout"} 1.0' in metrics
        assert httpx.post(f"{url}/v1/predict", json={"texts": ["a"]}).status_code == 200
    finally:
        stop(process)


def test_connections_beyond_the_limit_are_refused_until_stalled_ones_time_out(bundle_dir):
    # --max-pending 1 allows two connections: the stalled upload and one more.
    process, url = start_server("--model", str(bundle_dir), "--max-pending", "1", "--body-timeout", "2")
    try:
        with stalled_upload(url) as sock, httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/healthz").status_code == 503
            status, _ = read_response(sock)
        assert status == 408
        deadline = time.monotonic() + 10
        while httpx.get(f"{url}/healthz").status_code != 200:
            assert time.monotonic() < deadline, "the closed upload still counts against the limit"
            time.sleep(0.05)
    finally:
        stop(process)


def test_connections_that_never_finish_their_headers_are_closed_and_free_their_places(bundle_dir):
    """An idle socket, and one trickling its request line a byte at a time, held their places under the
    connection limit for ever: a handful of them shut every client out, /healthz included."""
    process, url = start_server("--model", str(bundle_dir), "--max-pending", "1", "--body-timeout", "2")
    parts = urlsplit(url)
    try:
        with (
            socket.create_connection((parts.hostname, parts.port), timeout=30) as idle,
            socket.create_connection((parts.hostname, parts.port), timeout=30) as trickling,
        ):
            time.sleep(0.3)
            assert httpx.get(f"{url}/healthz").status_code == 503  # both places taken
            deadline = time.monotonic() + 10
            closed = False
            for byte in b"GET /healthz HTTP/1.1\r\nHost: test\r\n":
                try:
                    trickling.sendall(bytes([byte]))
                except OSError:
                    closed = True
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            idle.settimeout(10)
            assert idle.recv(1) == b""  # closed by the server
            assert closed or trickling_closed(trickling)
            assert httpx.get(f"{url}/healthz").status_code == 200  # while the client still holds both
    finally:
        stop(process)


def trickling_closed(sock: socket.socket) -> bool:
    try:
        sock.settimeout(5)
        return sock.recv(1) == b""
    except OSError:
        return True
