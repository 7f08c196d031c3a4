"""batch_predictions scores with the bundle registry/production.json names when it runs.

`make rollback` switches that pointer without materializing production_model, so the bundle path that
production_model recorded may be stale; and when the first model ever is rejected there is no production
model at all. Stub classifiers stand in for the ONNX bundles, so nothing here trains.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from ft_serving.classifier import Prediction
from ft_serving.production import bundle_path

import ft_assets.assets.production as production_module
import ft_assets.promotion.gate as gate_module
from ft_assets.assets.batch_predictions import InboxConfig, batch_predictions, inbox_version
from ft_assets.promotion.registry import Registry
from ft_resources.artifact_store import ArtifactStore
from ft_resources.classifier_resource import ClassifierResource
from tests.assets.test_label_consistency import FOLDED, NamedClassClassifier, gate_inputs, run_gate


class VersionModel:
    """Answers with the model version of the bundle it was loaded from, as its only label."""

    def __init__(self, bundle_dir: Path) -> None:
        self.model_version = json.loads((Path(bundle_dir) / "report.json").read_text())["model_version"]
        self.labels = (self.model_version, "other")

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        probabilities = {self.model_version: 1.0, "other": 0.0}
        return [Prediction(t, self.model_version, 1.0, probabilities, False) for t in texts]


class VersionClassifier(ClassifierResource):
    def load(self, bundle_dir: Path | str) -> VersionModel:  # type: ignore[override]
        return VersionModel(Path(bundle_dir))


def promote(store: ArtifactStore, tmp_path: Path, version: str) -> dict[str, Any]:
    """Publish a bundle of `version` and return production_model's output as that promotion records it."""
    folder = tmp_path / "bundles" / version
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(version.encode())
    (folder / "report.json").write_text(json.dumps({"model_version": version}))
    Registry(store).publish(folder, {"model_version": version})
    path = store.display(bundle_path(version))
    return {"promoted": True, "production_version": version, "path": path, "reason": "promoted"}


def score(store: ArtifactStore, inbox: Path, production_model: dict[str, Any]) -> dg.Output:
    with dg.build_asset_context() as context:
        return batch_predictions(
            context,
            config=InboxConfig(inbox_dir=str(inbox)),
            production_model=production_model,
            classifier=VersionClassifier(),
            artifact_store=store,
        )


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a.txt").write_text("where is my parcel\nmy card was charged twice\n")
    return folder


@pytest.fixture
def local_store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(root=str(tmp_path / "artifacts"))


def test_a_rollback_is_scored_with_the_restored_model(
    local_store: ArtifactStore, inbox: Path, tmp_path: Path
) -> None:
    promote(local_store, tmp_path, "model-a")
    recorded = promote(local_store, tmp_path, "model-b")
    assert score(local_store, inbox, recorded).value["model_version"].eq("model-b").all()

    Registry(local_store).rollback("model-a")  # `make rollback VERSION=model-a`: no production_model run
    output = score(local_store, inbox, recorded)
    assert output.value["model_version"].eq("model-a").all()
    assert output.value["label"].eq("model-a").all()
    assert output.metadata["model_version"].value == "model-a"
    assert output.metadata["production_pointer"].value["model_version"] == "model-a"
    assert output.metadata["bundle_path"].value == local_store.display(bundle_path("model-a"))
    # The data version names the model that scored, so the rollback's predictions are a new version.
    assert output.data_version == dg.DataVersion(f"{inbox_version(inbox)}-model-a")


def test_no_production_model_yet_is_a_clear_failure(local_store: ArtifactStore, inbox: Path) -> None:
    rejected_first = {
        "promoted": False,
        "production_version": None,
        "path": None,
        "reason": "challenger macro_f1 0.3000 does not beat the TF-IDF baseline 0.5000; not promoted",
    }
    with pytest.raises(dg.Failure, match="no production model yet") as failure:
        score(local_store, inbox, rejected_first)
    assert "registry/production.json does not exist" in str(failure.value.description)
    assert "does not beat the TF-IDF baseline" in str(failure.value.description)


def test_the_first_model_rejected_by_the_gate_leaves_batch_predictions_a_clear_failure(
    local_store: ArtifactStore, inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate_module, "OnnxClassifier", NamedClassClassifier)
    monkeypatch.setattr(production_module, "render_model_card", lambda report, onnx, reason: reason)
    store = local_store
    # The first model ever, refused by require_beats_baseline: production_model records no bundle path.
    manifest, metadata = run_gate(
        store, gate_inputs(store, tmp_path, FOLDED, lexical=1.0), require_beats_baseline=True
    )
    assert (manifest["promoted"], manifest["path"]) == (False, None)
    assert metadata["decision"] == "not promoted (no production model yet)"
    with pytest.raises(dg.Failure, match="no production model yet"):
        score(store, inbox, manifest)


def test_a_bundle_that_no_longer_matches_the_pointer_is_refused(
    local_store: ArtifactStore, inbox: Path, tmp_path: Path
) -> None:
    recorded = promote(local_store, tmp_path, "model-a")
    (local_store.local_path(bundle_path("model-a")) / "model.onnx").write_bytes(b"tampered")
    with pytest.raises(dg.Failure, match=r"model\.onnx: checksum mismatch"):
        score(local_store, inbox, recorded)
