"""The whole graph with the instance on PostgreSQL and every artifact on S3, against real servers.

Beside it, the same sequence on SQLite and a local folder, so the two times stand side by side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import fsspec
import pytest
from ft_serving.production import read_production_pointer

from ft_assets.automation import new_data_sensor
from ft_assets.definitions import ALL_ASSETS, SENSORS
from ft_assets.promotion import rollback
from ft_assets.resources import build_resources
from ft_assets.retention.plan import apply_plan, plan_retention
from ft_assets.run_all import production_summary
from ft_resources.settings import ARTIFACTS_DIR_ENV, DATA_DIR_ENV, INBOX_DIR_ENV
from tests.assets.conftest import make_rows, write_csv, write_jsonl
from tests.automation.chain import CHAIN_CONFIG
from tests.automation.conftest import DOWNSTREAM, evaluate, materialize
from tests.conftest import TINY_LABELS
from tests.deploy.conftest import BUCKET, LOG_BUCKET, TIMINGS
from tests.deploy.servers import S3_ACCESS_KEY, S3_SECRET_KEY

BIN = Path(sys.executable).parent


@dataclass
class GraphRun:
    instance: dg.DagsterInstance
    defs: dg.Definitions
    root: str
    requested: set[str]
    run: dg.ExecuteInProcessResult
    requested_after_unchanged_rerun: set[str]
    seconds: float


def run_whole_graph(
    root: str, tmp_path: Path, instance: dg.DagsterInstance, tiny_model_dir: Path
) -> GraphRun:
    """New data seen by the sensor, the automation's run of all downstream, then the same files again."""
    defs = dg.Definitions(
        assets=ALL_ASSETS,
        sensors=SENSORS,
        resources=build_resources(artifacts_root=root, base_model=str(tiny_model_dir)),
    )
    started = time.perf_counter()
    _, tick = evaluate(defs, instance)
    [request] = new_data_sensor.evaluate_tick(
        dg.build_sensor_context(instance=instance, definitions=defs)
    ).run_requests
    assert materialize(defs, instance, ["raw_examples"], request.run_config).success
    requested, tick = evaluate(defs, instance, tick)
    run = materialize(defs, instance, requested, CHAIN_CONFIG)
    assert run.success, [e.message for e in run.get_step_failure_events()]
    _, tick = evaluate(defs, instance, tick)
    assert materialize(defs, instance, ["raw_examples"], request.run_config).success
    unchanged, _ = evaluate(defs, instance, tick)
    return GraphRun(instance, defs, root, requested, run, unchanged, time.perf_counter() - started)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Batch files and an inbox, as the sensor and batch_predictions find them through the environment."""
    raw = tmp_path / "raw"
    raw.mkdir()
    write_csv(raw / "batch1.csv", make_rows(40, seed=1))
    write_jsonl(raw / "batch2.jsonl", make_rows(10, seed=2, prefix="b2 "))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "messages.txt").write_text("my card was charged twice\nwhere is my parcel\n")
    monkeypatch.setenv(DATA_DIR_ENV, str(raw))
    monkeypatch.setenv(INBOX_DIR_ENV, str(inbox))
    return tmp_path


@pytest.fixture
def on_postgres_and_s3(
    project: Path,
    deployed_instance: dg.DagsterInstance,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[GraphRun]:
    root = f"s3://{BUCKET}/e2e-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(ARTIFACTS_DIR_ENV, root)
    yield run_whole_graph(root, project, deployed_instance, tiny_model_dir)


def test_the_whole_graph_on_postgres_and_s3(on_postgres_and_s3: GraphRun, postgres, tmp_path, capsys):
    graph = on_postgres_and_s3
    TIMINGS["graph on PostgreSQL + S3"] = graph.seconds
    steps = graph.instance.get_run_step_stats(graph.run.run_id)
    for step in sorted(steps, key=lambda s: s.end_time - s.start_time, reverse=True)[:3]:
        TIMINGS[f"  its step {step.step_key}"] = step.end_time - step.start_time
    assert graph.requested == DOWNSTREAM
    assert graph.requested_after_unchanged_rerun == set()
    instance = graph.instance

    # Every artifact the run recorded lives on the object store, and lineage links each input to the
    # exact upstream materialization it read.
    for key in sorted(DOWNSTREAM):
        record = instance.fetch_materializations(dg.AssetKey(key), limit=1).records[0]
        materialization = record.asset_materialization
        path = materialization.metadata.get("path")
        if path is not None:
            assert str(path.value).startswith(f"{graph.root}/"), (key, path.value)
        asset = graph.defs.resolve_assets_def(key)
        for upstream in asset.asset_deps[dg.AssetKey(key)]:
            pointer = materialization.tags.get(f"dagster/input_event_pointer/{upstream.to_user_string()}")
            # The upstream materialization current when this one ran (raw_examples was re-run since).
            history = instance.fetch_materializations(upstream, limit=100).records
            current = max(r.storage_id for r in history if r.storage_id < record.storage_id)
            assert pointer == str(current), (key, upstream)

    # The bundle: the pointer on S3 names an immutable registry folder with exactly the files it lists.
    pointer = read_production_pointer(graph.root)
    model = instance.get_latest_materialization_event(dg.AssetKey("fine_tuned_model"))
    assert pointer.model_version == model.asset_materialization.metadata["model_version"].value
    fs, _ = fsspec.core.url_to_fs(graph.root)
    stored = {Path(p).name for p in fs.ls(f"{graph.root}/{pointer.bundle}", detail=False, refresh=True)}
    assert set(pointer.files) == stored
    assert {"model.onnx", "model.int8.onnx", "tokenizer.json", "bundle.json", "report.json"} <= stored
    location, report = production_summary(graph.defs.resources["artifact_store"])
    assert location == f"{graph.root}/{pointer.bundle}"
    assert report["model_version"] == pointer.model_version

    # ft-sync fetches and verifies it, and ft-predict's default model is that copy: the commands a
    # user runs with FT_ARTIFACTS_DIR=s3://... and nothing else.
    env = {"PATH": str(BIN), "XDG_CACHE_HOME": str(tmp_path / "cache"), **graph_env()}
    synced = cli(env, "ft-sync")
    assert Path(synced) == tmp_path / "cache" / "ft-serving" / "bundles" / pointer.model_version
    [line] = cli(env, "ft-predict", "my card was charged twice").splitlines()
    answer = json.loads(line)
    assert answer["label"] in TINY_LABELS
    assert abs(sum(answer["probabilities"].values()) - 1) < 1e-5
    # make rollback's entry point lists the registry on S3 and switches the pointer there.
    assert rollback.main([]) == 0
    assert pointer.model_version in capsys.readouterr().out
    assert rollback.main([pointer.model_version]) == 0
    assert read_production_pointer(graph.root).entry["action"] == "rollback"
    scored = instance.get_latest_materialization_event(dg.AssetKey("batch_predictions"))
    assert scored.asset_materialization.metadata["row_count"].value == 2

    # Retention on PostgreSQL + S3: the instance accounts for every entry the graph wrote to the store
    # (none "unknown"), and what it deletes with keep=1 leaves every latest materialization readable.
    store = graph.defs.resources["artifact_store"]
    keys = [key for asset in ALL_ASSETS for key in asset.keys]
    plan = plan_retention(store, instance, keys, keep=1, min_age_seconds=0)
    assert plan.unknown == [] and plan.kept
    apply_plan(store, plan, instance)
    for key in keys:
        latest = instance.fetch_materializations(key, limit=1).records
        if latest and "path" in latest[0].asset_materialization.metadata:
            assert store.exists(store.relative(str(latest[0].asset_materialization.metadata["path"].value)))
    assert cli(env, "ft-predict", "where is my parcel")

    # No credential reached the instance's records or the compute logs.
    connection = postgres.connect(instance.run_storage.postgres_url.rsplit("/", 1)[1])
    try:
        with connection.cursor() as cursor:
            for table, column in (("event_logs", "event"), ("runs", "run_body")):
                for secret in (S3_SECRET_KEY, S3_ACCESS_KEY):
                    cursor.execute(f"SELECT count(*) FROM {table} WHERE {column} LIKE %s", (f"%{secret}%",))
                    assert cursor.fetchone() == (0,), (table, "credential found")
    finally:
        connection.close()
    logs, _ = fsspec.core.url_to_fs(f"s3://{LOG_BUCKET}")
    for key in logs.find(f"{LOG_BUCKET}/dagster-compute-logs"):
        assert S3_SECRET_KEY.encode() not in logs.cat_file(key)


def cli(env: dict[str, str], command: str, *args: str) -> str:
    done = subprocess.run([str(BIN / command), *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command} {args}: {done.stderr}"
    return done.stdout.strip()


def graph_env() -> dict[str, str]:
    names = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
             ARTIFACTS_DIR_ENV, "HOME", "DAGSTER_HOME")  # fmt: skip
    return {name: os.environ[name] for name in names if name in os.environ}


@pytest.mark.skipif(
    not os.environ.get("FT_DEPLOY_BASELINE"), reason="timing baseline; FT_DEPLOY_BASELINE=1 to measure"
)
def test_the_same_graph_on_sqlite_and_local_disk(project, tiny_model_dir, monkeypatch):
    """The baseline for the time above: one instance on SQLite, artifacts in a local folder."""
    root = str(project / "artifacts")
    monkeypatch.setenv(ARTIFACTS_DIR_ENV, root)
    with dg.instance_for_test() as instance:
        graph = run_whole_graph(root, project, instance, tiny_model_dir)
    TIMINGS["graph on SQLite + local disk"] = graph.seconds
    assert graph.requested == DOWNSTREAM
    assert graph.requested_after_unchanged_rerun == set()
