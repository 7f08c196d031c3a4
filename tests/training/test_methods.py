"""The fine-tuning method switch: what trains, what is saved, and what the outcome reports."""

from __future__ import annotations

import numpy as np
import pydantic
import pytest
import torch

from ft_assets.evaluation.inference import predict_split
from ft_assets.training import train_classifier
from ft_assets.training.data import prepare_split
from ft_assets.training.word_rows import token_ids_in
from tests.conftest import TINY_LABELS
from tests.training.conftest import CPU, LogCapture, tiny_config, weights

CLASSIFIER = ("classifier.weight", "classifier.bias")


def _train(tiny_dataset, tiny_model_dir, tmp_path, **overrides):
    config = tiny_config(epochs=2, metric_for_best_model="accuracy", **overrides)
    log = LogCapture()
    outcome = train_classifier(
        tiny_dataset, TINY_LABELS, tiny_model_dir, config, CPU, tmp_path / "m", tmp_path / "ck", log
    )
    return outcome, log


def _base(tiny_model_dir) -> dict[str, torch.Tensor]:
    return {f"bert.{name}": tensor for name, tensor in weights(tiny_model_dir).items()}


def _validation_accuracy(model_dir, tiny_dataset) -> float:
    logits = predict_split(model_dir, tiny_dataset["validation"])
    return float(np.mean(logits.argmax(1) == np.asarray(tiny_dataset["validation"]["labels"])))


@pytest.mark.parametrize("cache_features", [True, False])
def test_head_only_trains_the_head_and_nothing_else(tiny_dataset, tiny_model_dir, tmp_path, cache_features):
    outcome, log = _train(
        tiny_dataset, tiny_model_dir, tmp_path, method="head_only", cache_features=cache_features
    )
    base, trained = _base(tiny_model_dir), weights(outcome.model_dir)
    encoder = [name for name in trained if name.startswith("bert.")]
    assert encoder and all(torch.equal(trained[name], base[name]) for name in encoder)
    head_size = sum(trained[name].numel() for name in CLASSIFIER)
    assert outcome.fine_tuning["method"] == "head_only"
    assert outcome.fine_tuning["trainable_parameters"] == head_size
    assert outcome.fine_tuning["adapter_bytes"] is None
    assert bool(log.matching("outputs for train and validation")) is cache_features
    assert (outcome.feature_cache_seconds > 0) is cache_features
    # The head trained on cached features scores the same inside the whole saved model.
    assert _validation_accuracy(outcome.model_dir, tiny_dataset) == outcome.kept_metric
    assert outcome.train_tokens == 2 * sum(tiny_dataset["train"]["length"])


def test_lora_is_merged_into_a_plain_model(tiny_dataset, tiny_model_dir, tmp_path, baseline_run):
    outcome, log = _train(tiny_dataset, tiny_model_dir, tmp_path, method="lora", lora_r=4, lora_alpha=8)
    base, trained = _base(tiny_model_dir), weights(outcome.model_dir)
    # Same tensors as a fully fine-tuned model: nothing of PEFT is left for the ONNX export.
    assert set(trained) == set(weights(baseline_run.outcome.model_dir))
    assert not [name for name in trained if "lora" in name or "base_layer" in name]
    query = "bert.encoder.layer.0.attention.self.query.weight"
    key = "bert.encoder.layer.0.attention.self.key.weight"
    assert not torch.equal(trained[query], base[query])  # the adapter was folded in
    assert torch.equal(trained[key], base[key])  # not a target module
    hidden, layers = 32, 2
    lora_parameters = layers * 2 * (2 * hidden * 4)  # query and value: A (4x32) and B (32x4) each
    head = sum(trained[name].numel() for name in CLASSIFIER)
    summary = outcome.fine_tuning
    assert summary["trainable_parameters"] == lora_parameters + head
    assert summary["adapter_bytes"] == 4 * (lora_parameters + head)
    assert summary["trainable_parameters"] < summary["total_parameters"]
    assert log.matching("method lora:")
    assert _validation_accuracy(outcome.model_dir, tiny_dataset) == outcome.kept_metric


def test_full_trains_every_parameter_by_default(baseline_run, tiny_dataset, tiny_model_dir):
    summary = baseline_run.outcome.fine_tuning
    assert summary["method"] == "full"
    table = "bert.embeddings.word_embeddings.weight"
    base, trained = _base(tiny_model_dir), weights(baseline_run.outcome.model_dir)
    used = token_ids_in(prepare_split(tiny_dataset, "train", len(TINY_LABELS)))
    used = used[used != 0]  # [PAD]: nn.Embedding never trains the padding row
    unused = np.setdiff1d(np.arange(base[table].shape[0]), used)
    # Every weight but the word-table rows of tokens absent from train, which get no gradient anyway.
    untouched = len(unused) * base[table].shape[1]
    assert summary["trainable_parameters"] == summary["total_parameters"] - untouched > 0
    assert f"the {len(used):,} rows of tokens in the train split" in summary["detail"]
    assert not torch.equal(trained[table][used], base[table][used])
    assert torch.equal(trained[table][unused], base[table][unused])
    position = "bert.embeddings.position_embeddings.weight"
    assert not torch.equal(trained[position], base[position])


def test_full_can_keep_the_word_embeddings_as_pre_trained(tiny_dataset, tiny_model_dir, tmp_path):
    outcome, _ = _train(tiny_dataset, tiny_model_dir, tmp_path, freeze_word_embeddings=True)
    summary = outcome.fine_tuning
    table = "bert.embeddings.word_embeddings.weight"
    base, trained = _base(tiny_model_dir), weights(outcome.model_dir)
    assert summary["trainable_parameters"] == summary["total_parameters"] - base[table].numel()
    assert torch.equal(trained[table], base[table])
    position = "bert.embeddings.position_embeddings.weight"
    assert not torch.equal(trained[position], base[position])
    assert "but the word-embedding table" in summary["detail"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"frozen_layers": 1}, "frozen_layers applies to method='partial' only"),
        ({"method": "lora", "frozen_layers": 2}, "frozen_layers applies to method='partial' only"),
        ({"method": "partial"}, "method='partial' needs frozen_layers >= 1"),
        ({"method": "adapters"}, "method"),
        ({"method": "lora", "lora_target_modules": []}, "lora_target_modules"),
    ],
)
def test_inconsistent_method_settings_are_rejected(values, message):
    with pytest.raises(pydantic.ValidationError, match=message):
        tiny_config(**values)


def test_lora_can_train_the_pooler_in_full(tiny_dataset, tiny_model_dir, tmp_path):
    outcome, _ = _train(
        tiny_dataset, tiny_model_dir, tmp_path, method="lora", lora_r=4, lora_alpha=8,
        lora_modules_to_save=["pooler"],
    )  # fmt: skip
    base, trained = _base(tiny_model_dir), weights(outcome.model_dir)
    pooler = ("bert.pooler.dense.weight", "bert.pooler.dense.bias")
    assert not torch.equal(trained[pooler[0]], base[pooler[0]])
    extra = sum(trained[name].numel() for name in (*pooler, *CLASSIFIER))
    lora_parameters = 2 * 2 * (2 * 32 * 4)
    assert outcome.fine_tuning["trainable_parameters"] == lora_parameters + extra
    assert "pooler trained in full" in outcome.fine_tuning["detail"]


@pytest.mark.parametrize(
    "setting", [{"lora_target_modules": ["nonexistent"]}, {"lora_modules_to_save": ["nonexistent"]}]
)
def test_an_unknown_lora_module_fails_with_its_name(tiny_dataset, tiny_model_dir, tmp_path, setting):
    with pytest.raises(ValueError, match="nonexistent"):
        _train(tiny_dataset, tiny_model_dir, tmp_path, method="lora", **setting)
