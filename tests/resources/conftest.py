"""An in-process S3 server (moto) on loopback, for the artifact store and the registry on s3://."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_root(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh bucket; s3fs finds the server through the standard AWS_ENDPOINT_URL variable.

    (FSSPEC_S3_ENDPOINT_URL works too, but fsspec reads it once, when it is imported.)
    """
    import fsspec
    import s3fs

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # fsspec caches filesystems by arguments, not by environment: start from a clean slate.
    s3fs.S3FileSystem.clear_instance_cache()
    bucket = f"ft-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("s3").mkdir(bucket)
    yield f"s3://{bucket}/artifacts"
    s3fs.S3FileSystem.clear_instance_cache()
