from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.serving.bundle_factory import shared_finetuned_dir, shared_graphs, write_test_bundle

MODEL_VERSION = "test-model-1"


@pytest.fixture(scope="session")
def finetuned_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    return shared_finetuned_dir(tmp_path_factory, tiny_model_dir)


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory, finetuned_dir: Path) -> Path:
    fp32, int8 = shared_graphs(tmp_path_factory, finetuned_dir)
    target = tmp_path_factory.mktemp("bundle")
    return write_test_bundle(target, finetuned_dir, fp32, int8, model_version=MODEL_VERSION)


@pytest.fixture
def bundle_copy(bundle_dir: Path, tmp_path: Path) -> Path:
    """A private copy for tests that break the bundle."""
    return Path(shutil.copytree(bundle_dir, tmp_path / "bundle"))
