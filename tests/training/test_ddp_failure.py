"""A rank that raises must end the whole torchrun job with its error, not leave the others waiting."""

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.training.conftest import launcher_job

SCRIPT = Path(__file__).with_name("failing_rank.py")
# Far below the 30-minute collective timeout a hung rank would wait for; a failing run takes 15-25 s.
HANG = 120


def test_an_error_on_one_rank_fails_the_run_promptly_with_that_error(tiny_dataset, tiny_model_dir, tmp_path):
    dataset_dir = tmp_path / "dataset"
    tiny_dataset.save_to_disk(str(dataset_dir))
    job = launcher_job(tmp_path, dataset_dir, tiny_model_dir, epochs=1, batch_size=4, eval_batch_size=4)
    (tmp_path / "job.json").write_text(job.model_dump_json())
    root = Path(__file__).parents[2]
    paths = os.pathsep.join([str(root), str(root / "serving")])
    env = {**os.environ, "PYTHONPATH": paths, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    process = subprocess.Popen(
        [*command, str(SCRIPT), str(tmp_path / "job.json")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=root,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        # The ranks are torchrun's children in process groups of their own, and they hold the pipe open.
        for child in [*psutil.Process(process.pid).children(recursive=True), psutil.Process(process.pid)]:
            child.kill()
        process.communicate()
        pytest.fail(f"the ranks were still waiting for each other after {HANG} s")
    assert process.returncode != 0
    assert "rank 1 failed on purpose" in output
