"""Batch and online inference cannot disagree: batch_predictions and ft-serve give the same answers."""

from __future__ import annotations

import dagster as dg
import pytest
from fastapi.testclient import TestClient
from ft_serving.http.app import ServeConfig, create_app
from ft_serving.spec import read_spec

from ft_assets.assets.batch_predictions import InboxConfig, batch_predictions
from ft_assets.promotion.registry import Registry
from ft_resources.artifact_store import ArtifactStore
from ft_resources.classifier_resource import ClassifierResource

TEXTS = [
    "my invoice is wrong",
    "where is the courier",
    "",
    "the app crashes at login " * 40,  # longer than the bundle's max_length tokens
    "ça ne marche pas 😡",
]


@pytest.mark.parametrize("int8", [False, True], ids=["fp32", "int8"])
def test_batch_predictions_equal_ft_serve(bundle_dir, tmp_path, int8):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "messages.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    # batch_predictions scores with the bundle registry/production.json names: promote the test bundle.
    store = ArtifactStore(root=str(tmp_path / "artifacts"))
    version = read_spec(bundle_dir).model_version
    Registry(store).publish(bundle_dir, {"model_version": version})
    output = batch_predictions(
        dg.build_asset_context(),
        config=InboxConfig(inbox_dir=str(inbox)),
        production_model={"production_version": version},
        classifier=ClassifierResource(int8=int8),
        artifact_store=store,
    )
    frame = output.value
    with TestClient(create_app(ServeConfig(model_dir=bundle_dir, int8=int8))) as client:
        response = client.post("/v1/predict", json={"texts": TEXTS})
    served = response.json()["predictions"]
    assert frame["text"].tolist() == [s["text"] for s in served] == TEXTS
    assert frame["label"].tolist() == [s["label"] for s in served]
    assert (
        frame["truncated"].tolist()
        == [s.get("truncated", False) for s in served]
        == [False, False, False, True, False]
    )
    assert frame["model_version"].eq(response.json()["model_version"]).all()
    for row, answer in zip(frame.to_dict("records"), served, strict=True):
        assert row["score"] == pytest.approx(answer["score"], abs=1e-6)
        for label, probability in answer["probabilities"].items():
            assert row[f"p_{label}"] == pytest.approx(probability, abs=1e-6)
