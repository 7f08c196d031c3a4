from __future__ import annotations

from pathlib import Path

import pytest

from tests.serving.bundle_factory import shared_finetuned_dir, shared_graphs


@pytest.fixture(scope="session")
def finetuned_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    return shared_finetuned_dir(tmp_path_factory, tiny_model_dir)


@pytest.fixture(scope="session")
def other_finetuned_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """Same architecture and labels, another classifier head: a different model."""
    return shared_finetuned_dir(tmp_path_factory, tiny_model_dir, seed=1)


@pytest.fixture(scope="session")
def graphs(tmp_path_factory: pytest.TempPathFactory, finetuned_dir: Path) -> tuple[Path, Path]:
    return shared_graphs(tmp_path_factory, finetuned_dir)
