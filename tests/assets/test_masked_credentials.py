"""An artifact root whose URI carries credentials: metadata, manifests and logs show it masked only.

fsspec's in-memory filesystem stands in for an object store: it is remote to ArtifactStore (uploads,
downloads into the cache) and, unlike s3fs, takes a ``user:pass@`` root as an ordinary path, so the
masked URIs the assets record must be mapped back onto the real root for the downstream reads to work.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import fsspec
from datasets import load_from_disk

from ft_assets.definitions import ALL_ASSETS, DATA_ASSETS
from ft_assets.resources import build_resources
from ft_resources.artifact_store import ArtifactStore, mask_credentials
from tests.assets.conftest import data_run_config, make_rows, write_csv
from tests.conftest import SECRET, TINY_MODEL_TRAINING


def _metadata_text(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """Every materialization's metadata, rendered as text, by asset."""
    shown: dict[str, str] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        key = materialization.asset_key.to_user_string()
        values = {name: str(value.value) for name, value in materialization.metadata.items()}
        shown[key] = json.dumps(values)
    return shown


def _stored_json(store: ArtifactStore) -> dict[str, str]:
    """Every JSON object under the root (manifests, registry pointer and log, bundle files), as text."""
    fs, prefix = fsspec.core.url_to_fs(store.root)
    return {str(path): fs.cat_file(path).decode() for path in fs.find(prefix) if str(path).endswith(".json")}


def _manifest(store: ArtifactStore, result: dg.ExecuteInProcessResult, key: str) -> dict[str, Any]:
    materialization = result.asset_materializations_for_node(key)[0]
    return store.read_json(str(materialization.metadata["path"].value))


def _assert_masked_and_resolvable(store: ArtifactStore, uri: str, rel: str) -> None:
    masked_root = mask_credentials(store.root)
    assert SECRET not in uri
    assert uri == f"{masked_root}/{rel}"
    assert store._resolve(uri) == store.uri(rel)


def _rel_under(store: ArtifactStore, uri: str, parent: str) -> str:
    """The path of a content-named folder under ``parent``, from the masked URI a manifest recorded."""
    rel = uri.removeprefix(f"{mask_credentials(store.root)}/")
    assert rel.startswith(f"{parent}/") and rel.count("/") == 1, uri
    return rel


def test_the_data_assets_record_the_tokenized_dataset_masked(
    memory_root: str, tiny_model_dir: Path, data_dir: Path, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    resources = build_resources(memory_root, str(tiny_model_dir))
    store: ArtifactStore = resources["artifact_store"].model_copy(
        update={"cache_dir": str(tmp_path / "cache")}
    )
    resources["artifact_store"] = store
    result = dg.materialize(
        DATA_ASSETS, instance=instance, resources=resources, run_config=data_run_config(data_dir)
    )
    assert result.success
    for key, text in _metadata_text(result).items():
        assert SECRET not in text, f"{key}'s metadata shows the root's credentials"
    for path, text in _stored_json(store).items():
        assert SECRET not in text, f"{path} holds the root's credentials"
    manifest = _manifest(store, result, "tokenized_dataset")
    _assert_masked_and_resolvable(store, manifest["path"], f"tokenized_dataset/{manifest['version']}")
    metadata = result.asset_materializations_for_node("tokenized_dataset")[0].metadata
    assert metadata["dataset_path"].value == manifest["path"]
    # The masked URI still reads: the store maps it back onto the real root.
    splits = load_from_disk(str(store.local_path(manifest["path"])))
    assert sum(len(splits[name]) for name in splits) == sum(manifest["rows"].values())


def test_the_whole_graph_runs_on_a_root_with_credentials_and_never_shows_them(
    memory_root: str, tiny_model_dir: Path, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    data = tmp_path / "raw"
    data.mkdir()
    write_csv(data / "batch.csv", make_rows(40))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "new.txt").write_text("my invoice is wrong\n")
    resources = build_resources(memory_root, str(tiny_model_dir))
    store: ArtifactStore = resources["artifact_store"].model_copy(
        update={"cache_dir": str(tmp_path / "cache")}
    )
    resources["artifact_store"] = store
    # Every asset downstream of tokenized_dataset reads its inputs through the manifests' masked URIs.
    result = dg.materialize(
        ALL_ASSETS,
        instance=instance,
        resources=resources,
        run_config=data_run_config(
            data,
            tokenized_dataset={"max_length": 32},
            fine_tuned_model={"epochs": 2, "learning_rate": 5e-3, **TINY_MODEL_TRAINING},
            onnx_model={"parity_texts": 8, "latency_texts": 4},
            batch_predictions={"inbox_dir": str(inbox)},
        ),
    )
    assert result.success
    shown = _metadata_text(result)
    assert {
        "tokenized_dataset",
        "fine_tuned_model",
        "evaluation_report",
        "onnx_model",
        "production_model",
    } <= set(shown)
    for key, text in shown.items():
        assert SECRET not in text, f"{key}'s metadata shows the root's credentials"
    for path, text in _stored_json(store).items():
        assert SECRET not in text, f"{path} holds the root's credentials"
    for record in instance.all_logs(result.run_id):
        assert SECRET not in (record.user_message or ""), record.user_message

    model = _manifest(store, result, "fine_tuned_model")
    _assert_masked_and_resolvable(store, model["path"], f"fine_tuned_model/{model['model_version']}")
    evaluation = _manifest(store, result, "evaluation_report")
    # Named by content: the folder is whatever the manifest names under evaluation_report/.
    evaluation_rel = _rel_under(store, evaluation["path"], "evaluation_report")
    _assert_masked_and_resolvable(store, evaluation["path"], evaluation_rel)
    report_path = result.asset_materializations_for_node("evaluation_report")[0].metadata["report_path"]
    _assert_masked_and_resolvable(store, str(report_path.value), f"{evaluation_rel}/report.json")
    assert store.read_json(str(report_path.value))["model_version"] == model["model_version"]
    onnx = _manifest(store, result, "onnx_model")
    _assert_masked_and_resolvable(store, onnx["path"], _rel_under(store, onnx["path"], "onnx_model"))
    _assert_masked_and_resolvable(store, onnx["evaluation_path"], evaluation_rel)
    production = _manifest(store, result, "production_model")
    assert production["promoted"]
    _assert_masked_and_resolvable(store, production["path"], f"registry/{model['model_version']}")
    assert result.asset_materializations_for_node("batch_predictions")  # read the bundle through it
