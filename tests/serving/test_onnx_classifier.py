from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from ft_serving.classifier import OnnxClassifier, Prediction, softmax
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from tests.conftest import TINY_LABELS
from tests.serving.conftest import MODEL_VERSION

TEXTS = [
    "where is my parcel",
    "I was charged twice",
    "the app will not start after the update, it shows a blank screen and then closes",
    "refund",
    "can you resend the invoice for last month please",
]

ODD_TEXTS = {
    "empty": "",
    "whitespace": "  \t \n ",
    "emoji": "📦🚚💳 🤬🤬",
    "cjk": "我的包裹还没有到。请帮忙查一下",
    "arabic": "لم يصل طردي بعد",
    "hebrew": "החבילה שלי לא הגיעה",
    "control": "a\x00b\x07c\x1b[31md\x7f\u200b\u200f\ufeff",
    "lone_surrogate": "bad \udcff bytes",
    "combining": "e\u0301\u0301\u0301 z\u0336a\u0336",
}


@pytest.fixture(scope="module")
def classifier(bundle_dir: Path) -> OnnxClassifier:
    return OnnxClassifier(bundle_dir, threads=1)


def _assert_valid(prediction: Prediction, text: str) -> None:
    assert prediction.text == text
    assert list(prediction.probabilities) == list(TINY_LABELS)
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert prediction.label == max(prediction.probabilities, key=prediction.probabilities.__getitem__)
    assert prediction.score == prediction.probabilities[prediction.label]


def test_predictions_follow_input_order_and_match_torch(
    classifier: OnnxClassifier, finetuned_dir: Path
) -> None:
    predictions = classifier.predict(TEXTS, batch_size=2)
    assert [p.text for p in predictions] == TEXTS
    for prediction, text in zip(predictions, TEXTS, strict=True):
        _assert_valid(prediction, text)
        assert not prediction.truncated
    model = AutoModelForSequenceClassification.from_pretrained(finetuned_dir).eval()
    encoded = AutoTokenizer.from_pretrained(finetuned_dir)(TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = torch.softmax(model(**encoded).logits, dim=-1).numpy()
    actual = np.array([[p.probabilities[label] for label in TINY_LABELS] for p in predictions])
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_batch_size_does_not_change_results(classifier: OnnxClassifier) -> None:
    one_by_one = classifier.predict(TEXTS, batch_size=1)
    together = classifier.predict(TEXTS, batch_size=32)
    for a, b in zip(one_by_one, together, strict=True):
        assert a.label == b.label
        assert a.score == pytest.approx(b.score, abs=1e-5)


def test_labels_version_and_length_come_from_bundle_json(classifier: OnnxClassifier) -> None:
    assert classifier.labels == tuple(TINY_LABELS)
    assert classifier.model_version == MODEL_VERSION
    assert classifier.max_length == classifier.spec.max_length == 64


@pytest.mark.parametrize("name", sorted(ODD_TEXTS))
def test_odd_texts_get_an_answer(classifier: OnnxClassifier, name: str) -> None:
    [prediction] = classifier.predict([ODD_TEXTS[name]])
    _assert_valid(prediction, ODD_TEXTS[name])
    assert not prediction.truncated


def test_huge_text_is_truncated_and_flagged(classifier: OnnxClassifier) -> None:
    huge = ("my order was lost in transit and nobody answers my emails. " * 2000)[:100_000]
    predictions = classifier.predict(["short one", huge, huge[:60]])
    assert [p.truncated for p in predictions] == [False, True, False]
    _assert_valid(predictions[1], huge)


def test_int8_bundle_predicts(bundle_dir: Path, classifier: OnnxClassifier) -> None:
    int8 = OnnxClassifier(bundle_dir, int8=True).predict(TEXTS)
    fp32 = classifier.predict(TEXTS)
    for prediction, text in zip(int8, TEXTS, strict=True):
        _assert_valid(prediction, text)
    assert sum(a.label == b.label for a, b in zip(int8, fp32, strict=True)) >= 4


def test_predict_rejects_a_bare_string_and_bad_batch_size(classifier: OnnxClassifier) -> None:
    with pytest.raises(TypeError, match="sequence of texts"):
        classifier.predict("not a list")
    with pytest.raises(ValueError, match="batch_size"):
        classifier.predict(TEXTS, batch_size=0)
    assert classifier.predict([]) == []


def test_softmax_is_stable_for_extreme_logits() -> None:
    probabilities = softmax(np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4]], dtype=np.float32))
    assert np.all(np.isfinite(probabilities))
    np.testing.assert_allclose(probabilities.sum(axis=1), [1.0, 1.0])
    np.testing.assert_allclose(probabilities[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(probabilities[1], [1 / 3] * 3)


def test_an_int8_prediction_does_not_depend_on_the_texts_batched_with_it(bundle_dir: Path) -> None:
    """Dynamic quantization scales activations over the whole input tensor, padding and neighbours
    included: batched, a text's INT8 scores (and label) would move with whatever shares its call."""
    int8 = OnnxClassifier(bundle_dir, int8=True, threads=1)
    long = "the app will not start after the update " * 6
    for text in TEXTS:
        alone = int8.predict([text])[0]
        for company in ([long], ["x"], [long, "refund", text]):
            assert int8.predict([text, *company], batch_size=8)[0] == alone
