"""Fixtures that materialize assets through Dagster against a real temporary instance."""

import json
import random
from pathlib import Path

import pytest

from ft_assets.resources import build_resources
from tests.conftest import TINY_LABELS

WORDS = {
    "billing": ["invoice", "charged", "payment", "card", "bill", "fee", "subscription"],
    "shipping": ["parcel", "delivery", "courier", "tracking", "arrived", "package", "shipped"],
    "technical": ["crash", "error", "bug", "freezes", "login", "screen", "update"],
}


def make_rows(n_per_class: int, seed: int = 0, prefix: str = "") -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for label in TINY_LABELS:
        for i in range(n_per_class):
            words = rng.sample(WORDS[label], 3)
            rows.append(
                {"text": f"{prefix}{label} msg {i}: my {words[0]} and {words[1]} {words[2]}", "label": label}
            )
    rng.shuffle(rows)
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    lines = ["text,label", *[f'"{r["text"]}",{r["label"]}' for r in rows]]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    write_csv(folder / "batch1.csv", make_rows(40, seed=1))
    write_jsonl(folder / "batch2.jsonl", make_rows(10, seed=2, prefix="b2 "))
    return folder


@pytest.fixture
def resources(tmp_path: Path, tiny_model_dir: Path) -> dict:
    return build_resources(artifacts_root=str(tmp_path / "artifacts"), base_model=str(tiny_model_dir))


def data_run_config(data_dir: Path, **ops: dict) -> dict:
    config = {"ops": {"raw_examples": {"config": {"data_dir": str(data_dir)}}}}
    for op, op_config in ops.items():
        config["ops"][op] = {"config": op_config}
    return config
