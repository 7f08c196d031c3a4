"""TrainConfig: defaults, Launchpad descriptions and range validation."""

from __future__ import annotations

import pydantic
import pytest

from ft_assets.training import TrainConfig


def test_defaults_suit_a_short_minilm_cpu_run():
    config = TrainConfig()
    assert (config.epochs, config.batch_size, config.seed) == (3, 32, 42)
    assert config.learning_rate is None and config.peak_learning_rate == pytest.approx(1e-4)
    assert (config.max_steps, config.frozen_layers, config.class_weights) == (-1, 0, False)
    assert config.metric_for_best_model == "macro_f1" and config.greater_is_better
    assert (config.method, config.lora_r, config.lora_target_modules) == ("full", 8, ["query", "value"])


def test_each_method_has_its_own_learning_rate_unless_one_is_set():
    assert TrainConfig(method="lora").peak_learning_rate > TrainConfig(method="full").peak_learning_rate
    assert TrainConfig(method="head_only").peak_learning_rate > TrainConfig(method="lora").peak_learning_rate
    assert TrainConfig(method="lora", learning_rate=3e-4).peak_learning_rate == pytest.approx(3e-4)
    assert "lora 0.002" in (TrainConfig.model_fields["learning_rate"].description or "")


def test_every_field_has_a_description_for_the_launchpad():
    fields = TrainConfig.model_fields
    assert set(fields) == {
        "epochs", "learning_rate", "batch_size", "gradient_accumulation_steps", "warmup_ratio",
        "weight_decay", "seed", "early_stopping_patience", "frozen_layers",
        "class_weights", "max_steps", "max_train_seconds", "eval_batch_size", "metric_for_best_model",
        "keep_model", "method",
        "freeze_word_embeddings", "pooling", "linear_probe",
        "cache_features",
        "lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "lora_modules_to_save",
    }  # fmt: skip
    assert all(field.description for field in fields.values())


@pytest.mark.parametrize(
    "bad",
    [
        {"epochs": 0},
        {"learning_rate": 0.0},
        {"learning_rate": -1e-4},
        {"batch_size": 0},
        {"gradient_accumulation_steps": 0},
        {"warmup_ratio": 1.0},
        {"weight_decay": -0.1},
        {"early_stopping_patience": -1},
        {"frozen_layers": -1},
        {"max_steps": 0},
        {"max_train_seconds": 0.0},
        {"max_steps": -2},
        {"metric_for_best_model": "f1"},
    ],
)
def test_out_of_range_values_are_rejected(bad):
    with pytest.raises(pydantic.ValidationError):
        TrainConfig(**bad)


def test_loss_is_minimised_other_metrics_maximised():
    assert not TrainConfig(metric_for_best_model="loss").greater_is_better
    assert TrainConfig(metric_for_best_model="accuracy").greater_is_better


def test_the_linear_probe_default_follows_the_method():
    assert TrainConfig().fits_linear_probe
    assert TrainConfig(method="partial", frozen_layers=2).fits_linear_probe
    assert not TrainConfig(method="lora").fits_linear_probe
    assert not TrainConfig(method="head_only").fits_linear_probe
    assert TrainConfig(method="lora", linear_probe=True).fits_linear_probe
    assert not TrainConfig(linear_probe=False).fits_linear_probe
    with pytest.raises(pydantic.ValidationError, match="not method='head_only'"):
        TrainConfig(method="head_only", linear_probe=True)
