from __future__ import annotations

from pathlib import Path

import pytest

from tests.serving.bundle_factory import cached, shared_finetuned_dir, shared_graphs, write_test_bundle


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


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory, finetuned_dir: Path, graphs: tuple[Path, Path]) -> Path:
    """The graphs as a bundle (bundle.json, tokenizer, labels), max_length 64."""
    return cached(
        tmp_path_factory, "export-bundle", lambda target: write_test_bundle(target, finetuned_dir, *graphs)
    )
