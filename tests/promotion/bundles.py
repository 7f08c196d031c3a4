"""Small bundle-shaped folders and registry helpers for the promotion tests (no model needed)."""

from __future__ import annotations

import json
from pathlib import Path

from ft_assets.promotion.registry import Registry
from ft_resources.artifact_store import ArtifactStore


def fake_bundle(folder: Path, version: str, size: int = 4096) -> Path:
    """Files named like a bundle's, each holding its version so a reader can tell which it got."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(version.encode().ljust(size, b"\0"))
    (folder / "labels.json").write_text(json.dumps({"0": "a", "1": "b"}))
    (folder / "report.json").write_text(json.dumps({"model_version": version}))
    return folder


def publish(root: str, bundle: Path, version: str) -> None:
    Registry(ArtifactStore(root=root)).publish(bundle, {"model_version": version})


def served_version(root: Path) -> str:
    """The version users get through the `production` path."""
    return json.loads((root / "production" / "report.json").read_text())["model_version"]
