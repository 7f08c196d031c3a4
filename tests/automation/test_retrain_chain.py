"""The whole graph follows a new batch in one run, survives a training crash, and then rests."""

from __future__ import annotations

import dagster as dg
from ft_serving.bundle import INT8_MODEL_FILE, LABELS_FILE, MODEL_CARD_FILE, MODEL_FILE, REPORT_FILE

from ft_assets.promotion.registry import Registry
from ft_resources.artifact_store import ArtifactStore
from tests.automation.conftest import DOWNSTREAM

BUNDLE_FILES = (MODEL_FILE, INT8_MODEL_FILE, LABELS_FILE, REPORT_FILE, MODEL_CARD_FILE, "tokenizer.json")
ORDER = [
    "validated_examples",
    "dataset_splits",
    "tokenized_dataset",
    "fine_tuned_model",
    "evaluation_report",
    "onnx_model",
    "production_model",
    "batch_predictions",
]


def metadata(run: dg.ExecuteInProcessResult, key: str) -> dict:
    [event] = run.asset_materializations_for_node(key)
    return {name: value.value for name, value in event.metadata.items()}


def test_the_new_batch_runs_the_chain_in_order_and_promotes_a_first_model(trained_chain):
    assert trained_chain.requested == DOWNSTREAM
    run = trained_chain.run
    assert run.success
    order = [e.asset_key.to_user_string() for e in run.get_asset_materialization_events()]
    assert [key for key in order if key in ORDER] == ORDER
    production = metadata(run, "production_model")
    assert (production["decision"], production["reason"]) == ("promoted", "no production model yet")
    evaluation = metadata(run, "evaluation_report")
    # The promotion tests need a model that learned something: better than always guessing one class.
    assert evaluation["accuracy"] > evaluation["majority_baseline_accuracy"]
    assert set(BUNDLE_FILES) <= trained_chain.production_files
    assert trained_chain.production_report["model_version"] == production["production_version"]
    first = Registry(ArtifactStore(root=str(trained_chain.artifacts))).entries()[0]
    assert (first["action"], first["model_version"]) == ("promote", production["production_version"])


def test_a_crashed_training_attempt_is_retried_and_resumes_from_its_checkpoint(trained_chain):
    run = trained_chain.run
    retries = [e for e in run.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    errors = [str(e.event_specific_data.error) for e in retries]
    assert [e.step_key for e in retries] == ["fine_tuned_model"], errors
    assert "simulated crash after checkpoint-" in str(retries[0].event_specific_data.error)
    assert trained_chain.training_calls == 2
    trained = metadata(run, "fine_tuned_model")
    # The crash came right after epoch 1's checkpoint; the retry continued from there to epoch 2.
    assert trained["resumed_from_step"] > 0
    step = trained["resumed_from_step"]  # a verified checkpoint, and the metadata says which
    assert trained["resume"] == f"resuming from checkpoint checkpoint-{step} at step {step}"
    assert trained["global_step"] == 2 * trained["resumed_from_step"]
    assert trained["epochs_completed"] == 2.0
    assert not (trained_chain.artifacts / "checkpoints").exists() or not any(
        (trained_chain.artifacts / "checkpoints").iterdir()
    )


def test_after_the_chain_and_after_an_unchanged_rerun_nothing_is_requested(trained_chain):
    assert trained_chain.requested_after == set()
    assert trained_chain.requested_after_unchanged_rerun == set()
