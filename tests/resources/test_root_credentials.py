"""An artifact root whose URI carries a password is refused before any run can record it.

Dagster keeps a resource's settings in its run records and job snapshots and shows them on its Resources
page, where no masking reaches; so the pipeline refuses such a root, and says so without the password.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ft_assets.resources import build_resources
from ft_resources.artifact_store import ArtifactStore
from tests.conftest import SECRET


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


def test_the_environments_root_is_refused_as_the_definitions_build_their_resources(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ft_assets.definitions builds its resources from FT_ARTIFACTS_DIR with build_resources(): the code
    location fails to load, before any run could record the root."""
    monkeypatch.setenv("FT_ARTIFACTS_DIR", f"ftp://deploy:{SECRET}@files.internal/ft")
    with pytest.raises(ValidationError) as caught:
        build_resources()
    assert "carries a password" in str(caught.value) and SECRET not in str(caught.value)


def test_paths_shown_for_a_root_with_a_user_name_read_back(tmp_path: Path) -> None:
    """A user name alone is allowed, and the store shows it masked like any user info: the paths it records
    in metadata (masked) must still read from the real root."""
    store = ArtifactStore(root="memory://deploy@h-user-only/ft", cache_dir=str(tmp_path / "cache"))
    store.write_bytes("asset/a.json", b"{}")
    shown = store.display("asset/a.json")
    assert shown == "memory://***@h-user-only/ft/asset/a.json"
    assert store.read_bytes(shown) == b"{}"
