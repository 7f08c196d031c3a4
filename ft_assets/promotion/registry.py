"""Every promoted bundle, kept by model version, with a log of promotions and rollbacks."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ft_resources.artifact_store import ArtifactStore

PRODUCTION = "production"
REGISTRY = "registry"
LOG = f"{REGISTRY}/promotions.json"


class Registry:
    def __init__(self, store: ArtifactStore) -> None:
        self.store = store

    def entries(self) -> list[dict[str, Any]]:
        return self.store.read_json(LOG) if self.store.exists(LOG) else []

    def versions(self) -> list[str]:
        return [e["model_version"] for e in self.entries() if e["action"] == "promote"]

    def production_dir(self) -> Path | None:
        if not self.store.exists(f"{PRODUCTION}/model.onnx"):
            return None
        return self.store.local_path(PRODUCTION, refresh=True)

    def publish(self, bundle: Path, entry: dict[str, Any]) -> None:
        """Archive `bundle` under its version, then make it production; both writes are atomic."""
        version = entry["model_version"]
        for rel in (f"{REGISTRY}/{version}", PRODUCTION):
            with self.store.write_dir(rel) as staging:
                shutil.copytree(bundle, staging, dirs_exist_ok=True)
        self._log({**entry, "action": "promote"})

    def record_rejection(self, entry: dict[str, Any]) -> None:
        self._log({**entry, "action": "reject"})

    def rollback(self, version: str) -> dict[str, Any]:
        if version not in self.versions():
            known = ", ".join(self.versions()) or "none"
            raise ValueError(f"model version {version} was never promoted (promoted versions: {known})")
        archived = self.store.local_path(f"{REGISTRY}/{version}")
        with self.store.write_dir(PRODUCTION) as staging:
            shutil.copytree(archived, staging, dirs_exist_ok=True)
        entry = {"model_version": version, "action": "rollback"}
        self._log(entry)
        return entry

    def _log(self, entry: dict[str, Any]) -> None:
        stamped = {**entry, "time": datetime.now(UTC).isoformat(timespec="seconds")}
        self.store.write_json(LOG, [*self.entries(), stamped])
