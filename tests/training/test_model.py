"""Loading the classifier and freezing its lower layers (no training here)."""

from __future__ import annotations

import pytest
import torch
from transformers import DistilBertConfig, DistilBertForSequenceClassification

from ft_assets.training.model import freeze_lower_layers, load_classifier
from tests.conftest import TINY_LABELS


def test_loaded_head_is_labelled_and_seeded(tiny_model_dir):
    first, tokenizer = load_classifier(tiny_model_dir, TINY_LABELS, seed=3)
    second, _ = load_classifier(tiny_model_dir, TINY_LABELS, seed=3)
    assert first.config.id2label == dict(enumerate(TINY_LABELS))
    assert first.config.label2id == {name: i for i, name in enumerate(TINY_LABELS)}
    assert torch.equal(first.classifier.weight, second.classifier.weight)
    assert tokenizer.is_fast


def test_label_names_must_be_two_or_more_and_unique(tiny_model_dir):
    with pytest.raises(ValueError, match="at least two"):
        load_classifier(tiny_model_dir, ["only"], seed=0)
    with pytest.raises(ValueError, match="unique"):
        load_classifier(tiny_model_dir, ["a", "b", "a"], seed=0)


def test_freezing_more_layers_than_exist_is_an_error(tiny_model_dir):
    model, _ = load_classifier(tiny_model_dir, TINY_LABELS, seed=0)
    assert freeze_lower_layers(model, 0) == []
    assert all(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="only 2 encoder layers"):
        freeze_lower_layers(model, 3)


def test_architectures_without_bert_layout_are_refused():
    config = DistilBertConfig(vocab_size=100, dim=16, n_layers=1, n_heads=2, hidden_dim=32, num_labels=2)
    with pytest.raises(ValueError, match="BERT-like"):
        freeze_lower_layers(DistilBertForSequenceClassification(config), 1)
