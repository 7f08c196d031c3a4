"""Publishing production under readers, concurrent publishers and kill -9 at every step."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

from ft_serving.production import read_production_pointer

from ft_assets.promotion.registry import Registry
from ft_resources.artifact_store import ArtifactStore
from tests.promotion.bundles import fake_bundle, publish, served_version

FORK = multiprocessing.get_context("fork")


def _poll_production(root: str, stop: float, results: multiprocessing.Queue) -> None:
    target = Path(root) / "production" / "model.onnx"
    reads = misses = 0
    while time.monotonic() < stop:
        try:
            data = target.read_bytes()
        except OSError:
            misses += 1
        else:
            reads += 1
            assert data.rstrip(b"\0").startswith(b"v")
    results.put((reads, misses))


def test_a_reader_never_finds_production_missing_during_swaps(tmp_path):
    root = tmp_path / "artifacts"
    bundles = [fake_bundle(tmp_path / f"b{i}", f"v{i}", size=1024) for i in range(2)]
    publish(str(root), bundles[0], "v0")
    results = FORK.Queue()
    reader = FORK.Process(target=_poll_production, args=(str(root), time.monotonic() + 3.0, results))
    reader.start()
    swaps = 0
    while reader.is_alive():
        swaps += 1
        publish(str(root), bundles[swaps % 2], f"v{swaps}")
    reads, misses = results.get(timeout=10)
    reader.join()
    assert swaps > 20 and reads > 1000
    assert misses == 0


def _publish_many(root: str, folder: str, worker: int, rounds: int) -> None:
    for i in range(rounds):
        version = f"w{worker}r{i}"
        publish(root, fake_bundle(Path(folder) / version, version), version)


def test_concurrent_publishers_all_succeed_and_the_log_agrees_with_production(tmp_path):
    root = tmp_path / "artifacts"
    workers, rounds = 4, 5
    procs = [
        FORK.Process(target=_publish_many, args=(str(root), str(tmp_path / "src"), w, rounds))
        for w in range(workers)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0] * workers
    entries = Registry(ArtifactStore(root=str(root))).entries()
    assert len([e for e in entries if e["action"] == "promote"]) == workers * rounds
    assert entries[-1]["model_version"] == served_version(root)
    assert served_version(root) == read_production_pointer(str(root)).model_version
    assert not [p.name for p in root.rglob(".*") if p.name != ".lock"], "temporary files left behind"


# Steps that change what a reader can see; writes into a temporary file are invisible until renamed.
VISIBLE_STEPS = {"os.rename", "os.symlink", "os.remove", "os.rmdir", "shutil.rmtree", "shutil.copytree"}


def _publish_killed_at(root: str, bundle: str, version: str, step: int) -> None:
    seen = 0

    def kill_at_step(event: str, _args: tuple) -> None:
        nonlocal seen
        if event in VISIBLE_STEPS:
            seen += 1
            if seen == step:
                os.kill(os.getpid(), signal.SIGKILL)

    sys.addaudithook(kill_at_step)
    publish(root, Path(bundle), version)


def test_kill_9_at_any_step_leaves_the_old_or_the_new_production(tmp_path):
    root = tmp_path / "artifacts"
    publish(str(root), fake_bundle(tmp_path / "old", "old"), "old")
    step = 0
    while True:
        step += 1
        new = fake_bundle(tmp_path / f"new{step}", f"new{step}")
        proc = FORK.Process(target=_publish_killed_at, args=(str(root), str(new), f"new{step}", step))
        proc.start()
        proc.join(timeout=60)
        # The pointer is the switch; the `production` symlink follows it and always resolves too.
        production = read_production_pointer(str(root)).model_version
        assert production in {"old", f"new{step}"}, f"killed at step {step}"
        assert served_version(root) in {"old", f"new{step}"}, f"killed at step {step}"
        assert Registry(ArtifactStore(root=str(root))).entries()[-1]["model_version"] == production
        if proc.exitcode == 0:
            break
        assert proc.exitcode == -signal.SIGKILL
        # Whatever the kill left, the next writer cleans up and succeeds.
        publish(str(root), fake_bundle(tmp_path / "old", "old"), "old")
        assert served_version(root) == read_production_pointer(str(root)).model_version == "old"
        assert not [p.name for p in root.rglob(".*") if p.name != ".lock"], f"killed at step {step}"
    assert step > 5  # bundle, pointer, log entry, symlink: each was a kill point


def _gate_like(root: str, folder: str, version: str) -> None:
    registry = Registry(ArtifactStore(root=root))
    with registry.exclusive():
        pointer = registry.pointer()
        time.sleep(0.2)  # scoring the champion takes a while; nobody may switch production meanwhile
        bundle = fake_bundle(Path(folder) / version, version)
        registry.publish(bundle, {"model_version": version, "champion_version": pointer.model_version})


def test_each_decision_is_taken_against_the_production_it_replaces(tmp_path):
    root = tmp_path / "artifacts"
    publish(str(root), fake_bundle(tmp_path / "v0", "v0"), "v0")
    procs = [FORK.Process(target=_gate_like, args=(str(root), str(tmp_path), f"g{i}")) for i in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    assert [proc.exitcode for proc in procs] == [0] * 4
    promotions = [e for e in Registry(ArtifactStore(root=str(root))).entries() if e["action"] == "promote"]
    replaced = [e["champion_version"] for e in promotions[1:]]
    assert replaced == [e["model_version"] for e in promotions[:-1]]
