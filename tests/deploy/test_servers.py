"""The test servers are real: PostgreSQL answers SQL, SeaweedFS checks S3 credentials, both on loopback."""

from __future__ import annotations

import uuid

import fsspec
import psutil
import pytest

from tests.deploy.conftest import BUCKET
from tests.deploy.servers import LOOPBACK, PostgresServer, S3Server


def test_postgres_answers_sql_on_loopback_only(postgres: PostgresServer):
    connection = postgres.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW listen_addresses")
            assert cursor.fetchone() == (LOOPBACK,)
            cursor.execute("SELECT current_user, version()")
            user, version = cursor.fetchone()
    finally:
        connection.close()
    assert user == "dagster"
    assert version.startswith("PostgreSQL ")


def test_seaweedfs_round_trips_an_object_and_refuses_a_wrong_secret(s3_env: S3Server, monkeypatch):
    key = f"{BUCKET}/probe/{uuid.uuid4().hex}.txt"
    fs, _ = fsspec.core.url_to_fs(f"s3://{key}", skip_instance_cache=True)
    fs.pipe_file(key, b"hello")
    assert fs.cat_file(key) == b"hello"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    intruder, _ = fsspec.core.url_to_fs(f"s3://{key}", skip_instance_cache=True)
    with pytest.raises(PermissionError):
        intruder.cat_file(key)


@pytest.mark.parametrize("fixture", ["postgres", "s3_server"])
def test_every_listening_socket_is_on_loopback(fixture, request):
    server = request.getfixturevalue(fixture).server
    process = psutil.Process(server.process.pid)
    listening = [
        conn.laddr.ip
        for proc in (process, *process.children(recursive=True))
        for conn in proc.net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
    ]
    assert listening
    assert set(listening) == {LOOPBACK}
