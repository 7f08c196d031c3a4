"""The linear probe before fine-tuning: the head it leaves is the logistic regression it fitted."""

from __future__ import annotations

import datasets
import numpy as np
import pytest
import torch

from ft_assets.training import train_classifier
from ft_assets.training.data import PreparedSplit, prepare_split
from ft_assets.training.features import cache_head_inputs
from ft_assets.training.model import load_classifier
from ft_assets.training.probe import FOLDS, fit_head, logistic_regression, sample_rows
from tests.conftest import TINY_LABELS
from tests.training.conftest import CPU, STEPS_PER_EPOCH, LogCapture, tiny_config, weights
from tests.training.test_resume import SimulatedKillError, _KillAfterFirstCheckpoint


def _probed(tiny_dataset, tiny_model_dir, labels=TINY_LABELS, rows=None):
    model, tokenizer = load_classifier(tiny_model_dir, labels, seed=3)
    dataset = tiny_dataset if rows is None else {"train": tiny_dataset["train"].select(rows)}
    train = prepare_split(dataset, "train", len(labels))
    fit = fit_head(model, train, tokenizer, CPU, batch_size=16, seed=0)
    return model, tokenizer, train, fit.train_accuracy


def _predicted(model, tokenizer, split) -> np.ndarray:
    features = cache_head_inputs(model, split, tokenizer, CPU, 16).with_format("numpy")["features"][:]
    with torch.no_grad():
        return model.classifier(torch.as_tensor(features)).argmax(1).numpy()


def test_the_fitted_head_predicts_as_the_probe_scored(tiny_dataset, tiny_model_dir):
    model, tokenizer, train, accuracy = _probed(tiny_dataset, tiny_model_dir)
    predicted = _predicted(model, tokenizer, train)
    assert float(np.mean(predicted == train.labels)) == pytest.approx(accuracy)
    # Three balanced classes: a fitted head is far above chance on the rows it was fitted to.
    assert accuracy > 0.6


def test_two_labels_split_the_logit_difference_so_softmax_agrees_with_sklearn(tiny_dataset, tiny_model_dir):
    rows = [i for i, label in enumerate(tiny_dataset["train"]["labels"]) if label < 2]
    model, tokenizer, train, _ = _probed(tiny_dataset, tiny_model_dir, TINY_LABELS[:2], rows)
    features = cache_head_inputs(model, train, tokenizer, CPU, 16).with_format("numpy")["features"][:]
    with torch.no_grad():
        logits = model.classifier(torch.as_tensor(features)).double().numpy()
    # The fitted head's logit difference is a linear function of the features the probe fitted.
    centred = features - features.mean(0)
    scale = np.sqrt((centred**2).mean())
    reference, _ = logistic_regression(centred / scale, train.labels)
    difference = reference.decision_function(centred / scale)
    np.testing.assert_allclose(logits[:, 1] - logits[:, 0], difference, rtol=1e-3, atol=1e-3)
    assert logits[:, 0] == pytest.approx(-logits[:, 1], abs=1e-4)


def test_a_label_missing_from_train_is_named(tiny_dataset, tiny_model_dir):
    rows = [i for i, label in enumerate(tiny_dataset["train"]["labels"]) if label < 2]
    with pytest.raises(ValueError, match="every label in the train split; it has 2 of 3"):
        _probed(tiny_dataset, tiny_model_dir, rows=rows)


def test_training_starts_from_the_probe_and_says_so(tiny_dataset, tiny_model_dir, tmp_path):
    log = LogCapture()
    config = tiny_config(epochs=1, max_steps=1, learning_rate=1e-9, linear_probe=True)
    outcome = train_classifier(
        tiny_dataset, TINY_LABELS, tiny_model_dir, config, CPU, tmp_path / "m", tmp_path / "ck", log
    )
    assert log.matching("linear probe: head fitted")
    assert outcome.linear_probe_seconds > 0
    assert "linear probe" in str(outcome.fine_tuning["detail"])
    # One step at a negligible rate leaves the head where the probe put it, not at its random start.
    model, *_ = _probed(tiny_dataset, tiny_model_dir)
    saved = weights(outcome.model_dir)["classifier.weight"]
    torch.testing.assert_close(saved, model.classifier.weight.detach(), atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"linear_probe": False}, "switched off"),
        ({"linear_probe": None, "method": "head_only"}, "head_only trains only the head"),
        ({"linear_probe": None, "method": "lora"}, "off by default for lora"),
    ],
)
def test_no_probe_when_off_head_only_or_lora(tiny_dataset, tiny_model_dir, tmp_path, overrides, reason):
    log = LogCapture()
    config = tiny_config(epochs=1, max_steps=1, **overrides)
    outcome = train_classifier(
        tiny_dataset, TINY_LABELS, tiny_model_dir, config, CPU, tmp_path / "m", tmp_path / "ck", log
    )
    assert not log.matching("linear probe"), reason
    assert outcome.linear_probe_seconds == 0


def test_a_resumed_run_takes_its_head_from_the_checkpoint_not_a_new_probe(
    tiny_dataset, tiny_model_dir, tmp_path
):
    config = tiny_config(epochs=2, linear_probe=True)
    paths = (tmp_path / "m", tmp_path / "ck")
    first = LogCapture()
    with pytest.raises(SimulatedKillError):
        train_classifier(
            tiny_dataset, TINY_LABELS, tiny_model_dir, config, CPU, *paths, first,
            callbacks=[_KillAfterFirstCheckpoint()],
        )  # fmt: skip
    assert first.matching("linear probe: head fitted")
    log = LogCapture()
    outcome = train_classifier(tiny_dataset, TINY_LABELS, tiny_model_dir, config, CPU, *paths, log)
    assert outcome.resumed_from_step == STEPS_PER_EPOCH
    assert not log.matching("linear probe: head fitted") and outcome.linear_probe_seconds == 0
    # The model card and metadata still say how the run's head started.
    assert "linear probe" in str(outcome.fine_tuning["detail"])


def test_a_class_too_small_for_the_folds_still_gets_a_probe():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(13, 4))
    labels = np.array([0] * 6 + [1] * 6 + [2])
    probe, strength = logistic_regression(features, labels)
    assert probe.coef_.shape == (3, 4) and strength > 0
    assert hasattr(logistic_regression(features[:12], labels[:12])[0], "Cs_")  # 6 rows a class: CV


def _split(labels: list[int]) -> PreparedSplit:
    ids = [[101, 1000 + i, 102] for i in range(len(labels))]
    dataset = datasets.Dataset.from_dict({"input_ids": ids, "labels": labels})
    return PreparedSplit(dataset, [3 + i for i in range(len(labels))], np.asarray(labels))


def test_a_large_train_split_is_probed_on_a_sample_that_keeps_each_class_share():
    split = _split([0] * 900 + [1] * 97 + [2] * 3)
    sample = sample_rows(split, 100, seed=0)
    counts = np.bincount(sample.labels)
    # 90 % and 10 % of 100 rows; the 3-row class keeps every row it has (fewer than the folds need).
    assert counts.tolist() == [90, 10, 3] and FOLDS > 3
    # Rows, lengths and labels stay aligned: row i's token id and length both encode its index.
    originals = [row[1] - 1000 for row in sample.dataset["input_ids"]]
    assert [3 + i for i in originals] == sample.lengths
    assert sample.labels.tolist() == [split.labels[i] for i in originals] == sample.dataset["labels"]
    assert originals == sorted(set(originals))
    assert sample_rows(split, 100, seed=0).lengths == sample.lengths  # the seed decides the sample
    assert sample_rows(split, 100, seed=1).lengths != sample.lengths
    assert sample_rows(split, 1000, seed=0) is split


def test_the_probe_reports_how_many_rows_it_read(tiny_dataset, tiny_model_dir):
    model, tokenizer = load_classifier(tiny_model_dir, TINY_LABELS, seed=3)
    train = prepare_split(tiny_dataset, "train", len(TINY_LABELS))
    assert fit_head(model, train, tokenizer, CPU, 16, seed=0).rows == len(train.labels)
    sampled = fit_head(model, train, tokenizer, CPU, 16, seed=0, max_rows=len(train.labels) // 2)
    assert sampled.rows == pytest.approx(len(train.labels) / 2, abs=len(TINY_LABELS))
