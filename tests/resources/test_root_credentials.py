"""An artifact root whose URI carries a password is refused before any run can record it.

Dagster keeps a resource's settings in its run records and job snapshots and shows them on its Resources
page, where no masking reaches; so the pipeline refuses such a root, and says so without the password.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from ft_assets.resources import build_resources
from ft_resources.artifact_store import ArtifactStore
from tests.conftest import SECRET

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize(
    "root", [f"ftp://deploy:{SECRET}@files.internal/ft", f"s3://AKIAKEY:{SECRET}/with/slash@bucket/x"]
)
def test_a_root_with_a_password_is_refused_without_showing_it(root: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build_resources(artifacts_root=root)
    message = str(caught.value)
    assert "carries a password" in message and "***@" in message
    assert SECRET not in message


def test_roots_without_a_password_are_taken(tmp_path: Path) -> None:
    for root in (str(tmp_path), "s3://bucket/prefix", "sftp://deploy@files.internal/ft", "memory://h/x"):
        assert ArtifactStore(root=root).root == root


def test_the_code_location_does_not_load_with_such_a_root(tmp_path: Path) -> None:
    """What `dagster dev` and the deployed code server do first: import the Definitions."""
    env = {"PATH": "/usr/bin:/bin", "FT_ARTIFACTS_DIR": f"ftp://deploy:{SECRET}@files.internal/ft"}
    done = subprocess.run(
        [sys.executable, "-c", "import ft_assets.definitions"],
        env={**env, "PYTHONPATH": f"{ROOT}:{ROOT / 'serving'}", "HOME": str(tmp_path)},
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0
    assert "carries a password" in done.stderr
    assert SECRET not in done.stderr + done.stdout
