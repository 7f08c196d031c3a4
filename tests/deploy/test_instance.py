"""deploy/dagster.yaml loads as a real instance: runs in PostgreSQL, compute logs in S3, a `gpu` pool of 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import dagster as dg

from tests.deploy.conftest import LOG_BUCKET


@dg.asset(pool="gpu")
def gpu_step() -> int:
    print("stdout from the gpu step")
    return 1


def test_runs_and_events_are_stored_in_postgres_through_psycopg2(deployed_instance, postgres):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    assert isinstance(deployed_instance.run_storage, PostgresRunStorage)
    assert isinstance(deployed_instance.event_log_storage, PostgresEventLogStorage)
    assert deployed_instance.run_storage._engine.url.drivername == "postgresql+psycopg2"

    result = dg.materialize([gpu_step], instance=deployed_instance)
    assert result.success
    connection = postgres.connect(os.environ["DAGSTER_PG_DB"])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT status FROM runs WHERE run_id = %s", (result.run_id,))
            assert cursor.fetchone() == ("SUCCESS",)
            cursor.execute(
                "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = %s",
                (result.run_id, "ASSET_MATERIALIZATION"),
            )
            assert cursor.fetchone() == (1,)
    finally:
        connection.close()


def test_compute_logs_are_uploaded_to_the_s3_bucket(deployed_instance, s3_env):
    result = dg.materialize([gpu_step], instance=deployed_instance)
    client = boto3.client("s3")  # endpoint and credentials from the standard variables only
    listing = client.list_objects_v2(Bucket=LOG_BUCKET, Prefix="dagster-compute-logs/")
    keys = [item["Key"] for item in listing.get("Contents", []) if result.run_id in item["Key"]]
    assert keys, f"no compute log for run {result.run_id} in s3://{LOG_BUCKET}"
    logs = b"".join(client.get_object(Bucket=LOG_BUCKET, Key=key)["Body"].read() for key in keys)
    assert b"stdout from the gpu step" in logs


def test_the_gpu_pool_defaults_to_one_slot_and_the_cli_raises_it(deployed_instance, deployed_home):
    config = deployed_instance.get_concurrency_config()
    assert config.pool_config.default_pool_limit == 1
    assert dg.materialize([gpu_step], instance=deployed_instance).success
    assert deployed_instance.event_log_storage.get_concurrency_info("gpu").slot_count == 1
    # Two GPUs: the documented one-time command, run as a user would.
    dagster = Path(sys.executable).with_name("dagster")
    subprocess.run([str(dagster), "instance", "concurrency", "set", "gpu", "2"], check=True, env=os.environ)
    assert deployed_instance.event_log_storage.get_concurrency_info("gpu").slot_count == 2


def test_run_monitoring_fails_stuck_runs_and_frees_their_slots(deployed_instance):
    # Without it a crashed training run holds the `gpu` slot, and blocks retention, for ever.
    assert deployed_instance.run_monitoring_enabled
    settings = deployed_instance.run_monitoring_settings
    assert settings["start_timeout_seconds"] >= 300  # a GPU pod's image pull must not count as stuck
    assert settings["free_slots_after_run_end_seconds"] > 0
    # A step Job pending for want of a GPU node counts as healthy: only a run time limit ends that run.
    assert 0 < deployed_instance.run_monitoring_max_runtime_seconds <= 24 * 3600
