"""Serve exactly what was evaluated: texts longer than max_length get the evaluated predictions from
ft-predict, and the pipeline's truncation is the fast tokenizer's own, token for token."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ft_serving.bundle import load_bundle
from ft_serving.classifier import softmax
from ft_serving.encoding import TextEncoder
from ft_serving.predict_cli import main as ft_predict
from transformers import AutoTokenizer

from ft_assets.evaluation.inference import predict_split
from ft_assets.export import PARITY_TOLERANCE
from ft_assets.tokenizing.dataset import build_dataset_dict
from ft_assets.tokenizing.encode import encode_texts
from tests.conftest import TINY_LABELS
from tests.serving.bundle_factory import cached, shared_graphs, write_test_bundle

MAX_LENGTH = 32
WORDS = ("parcel", "invoice", "charged", "twice", "login", "crash", "refund", "courier", "tracking", "fee")


def _texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(10 + 9 * (i % 7))) for i in range(n)]


def _make_sensitive_model(base_dir: Path, target: Path) -> None:
    """A 3-label classifier whose scores move with every token (the default init barely reacts to text)."""
    import torch
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        base_dir,
        num_labels=len(TINY_LABELS),
        id2label=dict(enumerate(TINY_LABELS)),
        label2id={label: i for i, label in enumerate(TINY_LABELS)},
    )
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() > 1:
                parameter.normal_(0.0, 2.0 / parameter.shape[1] ** 0.5)
    model.save_pretrained(target)
    AutoTokenizer.from_pretrained(base_dir).save_pretrained(target)


@pytest.fixture(scope="module")
def sensitive_model(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    return cached(
        tmp_path_factory, "sensitive-model", lambda target: _make_sensitive_model(tiny_model_dir, target)
    )


@pytest.fixture(scope="module")
def sensitive_bundle(tmp_path_factory: pytest.TempPathFactory, sensitive_model: Path) -> Path:
    fp32, int8 = shared_graphs(tmp_path_factory, sensitive_model)
    return cached(
        tmp_path_factory,
        "sensitive-bundle",
        lambda target: write_test_bundle(target, sensitive_model, fp32, int8, max_length=MAX_LENGTH),
    )


def test_long_texts_get_the_evaluated_predictions_from_ft_predict(
    sensitive_model: Path, sensitive_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = _texts(21)
    frame = pd.DataFrame({"text": texts, "label": TINY_LABELS * 7, "split": "test"})
    tokenizer = AutoTokenizer.from_pretrained(sensitive_model)
    # The evaluation's own path: tokenized_dataset's encoding, then evaluation_report's torch inference.
    dataset, full_lengths = build_dataset_dict(frame, tokenizer, TINY_LABELS, MAX_LENGTH)
    evaluated = softmax(predict_split(sensitive_model, dataset["test"]))
    assert (full_lengths > MAX_LENGTH).sum() >= 10  # most texts are cut

    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": text}) + "\n" for text in texts))
    assert ft_predict(["--model", str(sensitive_bundle), "--file", str(path)]) == 0
    served = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert [s["label"] for s in served] == [TINY_LABELS[i] for i in evaluated.argmax(axis=1)]
    served_probabilities = np.array([[s["probabilities"][label] for label in TINY_LABELS] for s in served])
    np.testing.assert_allclose(served_probabilities, evaluated, atol=PARITY_TOLERANCE)
    assert [s.get("truncated", False) for s in served] == (full_lengths > MAX_LENGTH).tolist()
    # Not a vacuous check: the same graph fed up to its 128 positions (the old serving default) differs.
    bundle = load_bundle(sensitive_bundle)
    wide = TextEncoder.build(
        bundle.encoder.tokenizer,
        max_length=128,
        truncation_side="right",
        input_names=bundle.spec.model_inputs,
        pad_token="[PAD]",
    )
    skewed = softmax(bundle.session.run(["logits"], wide.feeds(wide.encode(texts)))[0])
    assert np.abs(skewed - evaluated).max() > 0.05


def _odd_long_texts() -> list[str]:
    return [
        *_texts(12, seed=3),
        "",
        "refund",
        "我的包裹还没有到。请帮忙查一下 " * 20,
        "📦🚚💳 " * 40,
        ("my order was lost in transit and nobody answers my emails. " * 2000)[:100_000],
        # Texts whose pre-cut part would not overflow: the encoder must fall back to the whole text.
        " " * 50_000 + "refund please, the card was charged twice",
        "refund please, the card was charged twice" + "\n" * 50_000,
        "x" * 3000 + " charged twice",
        "\n".join(_texts(400, seed=4)),
    ]


@pytest.mark.parametrize("side", ["right", "left"])
def test_truncation_is_the_fast_tokenizers_own_token_for_token(sensitive_model: Path, side: str) -> None:
    texts = _odd_long_texts()
    tokenizer = AutoTokenizer.from_pretrained(sensitive_model, truncation_side=side)
    expected = tokenizer(texts, truncation=True, max_length=MAX_LENGTH)
    untruncated = tokenizer(texts)["input_ids"]

    pipeline = encode_texts(tokenizer, texts, MAX_LENGTH)  # tokenized_dataset
    assert pipeline.columns["input_ids"] == expected["input_ids"]
    assert pipeline.columns["token_type_ids"] == expected["token_type_ids"]
    assert pipeline.full_lengths.tolist() == [len(ids) for ids in untruncated]

    serving = TextEncoder.build(
        tokenizer.backend_tokenizer,
        max_length=MAX_LENGTH,
        truncation_side=side,
        input_names=("input_ids", "attention_mask", "token_type_ids"),
    )
    encodings = serving.encode(texts)  # ft-predict, with its bounded pre-cut of huge texts
    assert [e.ids for e in encodings] == expected["input_ids"]
    assert [bool(e.overflowing) for e in encodings] == [len(ids) > MAX_LENGTH for ids in untruncated]


def test_the_bundle_encodes_as_the_training_data_was_encoded(
    sensitive_model: Path, sensitive_bundle: Path
) -> None:
    texts = _odd_long_texts()
    tokenizer = AutoTokenizer.from_pretrained(sensitive_model)
    trained_on = encode_texts(tokenizer, texts, MAX_LENGTH).columns["input_ids"]
    bundle = load_bundle(sensitive_bundle)
    assert bundle.max_length == MAX_LENGTH
    assert [e.ids for e in bundle.encoder.encode(texts)] == trained_on
