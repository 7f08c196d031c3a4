"""ft-serve follows promotions on an object store: the pointer's ETag is polled, the bundle fetched."""

from __future__ import annotations

import time

import fsspec
from fastapi.testclient import TestClient
from ft_serving.http.app import ServeConfig, create_app
from ft_serving.production import POINTER_PATH, bundle_path

from tests.resources.conftest import moto_endpoint, s3_root  # noqa: F401  (fixtures)
from tests.serving.bundle_factory import shared_graphs
from tests.serving.http_registry import add_to_registry, promote


def test_follows_promotions_on_an_object_store(s3_root, tmp_path, tmp_path_factory, finetuned_dir):  # noqa: F811
    local = tmp_path / "staging"
    graphs = shared_graphs(tmp_path_factory, finetuned_dir)
    store = fsspec.filesystem("s3")
    for version in ("v1", "v2"):
        folder = add_to_registry(local, finetuned_dir, graphs, version)
        store.put(str(folder), f"{s3_root}/{bundle_path(version)}", recursive=True)

    def publish(version: str) -> None:  # one PUT of the pointer, as the promotion gate does on S3
        promote(local, version)
        store.put_file(str(local / POINTER_PATH), f"{s3_root}/{POINTER_PATH}")

    publish("v1")
    cache = tmp_path / "cache"
    config = ServeConfig(artifacts_root=s3_root, cache_dir=cache, poll_interval_s=0.05)
    with TestClient(create_app(config)) as client:
        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200:  # the first load runs after start-up
            assert time.monotonic() < deadline, "the bundle on S3 never loaded"
            time.sleep(0.05)
        assert client.get("/readyz").json() == {"status": "ready", "model_version": "v1"}
        publish("v2")
        deadline = time.monotonic() + 30
        while client.get("/v1/model").json()["model_version"] != "v2":
            assert time.monotonic() < deadline, "the promotion on S3 was not followed"
            time.sleep(0.05)
        assert client.post("/v1/predict", json={"texts": ["a"]}).json()["model_version"] == "v2"
        assert client.get("/v1/model").json()["bundle"] == "v2"
