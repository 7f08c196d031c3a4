"""A model is served as it was evaluated: ft-serve answers every long text as OnnxClassifier does on it whole.

No character limit of the HTTP layer may change what the model reads: not on the side the bundle
truncates from, not when the text opens with a long run of whitespace.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ft_serving.classifier import OnnxClassifier, Prediction
from ft_serving.http.app import ServeConfig, create_app
from ft_serving.http.limits import Limits
from ft_serving.spec import read_spec, write_spec

# Longer than the 20,000 characters ft-serve used to cut every text to; all fit the default body limit.
LONG = 30_000
TAIL = "my parcel never arrived, where is my shipment?"
TEXTS = {
    "whitespace then words": " " * LONG + TAIL,
    "newlines then words": "\n" * LONG + TAIL,
    "words, other words at the end": "refund my invoice " * (LONG // 18) + "where is my parcel " * 20,
    "one giant word then words": "x" * LONG + " " + TAIL,
    "a short text": TAIL,
}


@pytest.fixture(scope="module")
def left_bundle(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test bundle set to keep the end of long texts, as a bundle trained that way declares."""
    target = Path(shutil.copytree(bundle_dir, tmp_path_factory.mktemp("left") / "bundle"))
    write_spec(target, replace(read_spec(target), truncation_side="left"))
    config_path = target / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config_path.write_text(json.dumps({**config, "truncation_side": "left"}))
    return target


@pytest.fixture(scope="module", params=["right", "left"])
def served(request: pytest.FixtureRequest, bundle_dir: Path) -> Iterator[tuple[TestClient, OnnxClassifier]]:
    bundle = bundle_dir if request.param == "right" else request.getfixturevalue("left_bundle")
    config = ServeConfig(model_dir=bundle, limits=Limits())
    with TestClient(create_app(config)) as client:
        yield client, OnnxClassifier(bundle, threads=1)


def assert_same(answer: dict[str, object], expected: Prediction) -> None:
    assert answer["text"] == expected.text
    assert answer["label"] == expected.label
    assert answer.get("truncated", False) is expected.truncated
    assert answer["probabilities"] == pytest.approx(expected.probabilities, abs=1e-5)


@pytest.mark.parametrize("name", TEXTS, ids=list(TEXTS))
def test_each_text_is_answered_as_the_classifier_answers_it_whole(served, name):
    client, classifier = served
    text = TEXTS[name]
    response = client.post("/v1/predict", json={"texts": [text]})
    assert response.status_code == 200, response.text
    (expected,) = classifier.predict([text])
    assert_same(response.json()["predictions"][0], expected)


def test_the_sides_differ_where_it_matters(bundle_dir, left_bundle):
    """The cases above can tell a wrong side from a right one: each side reads other words."""
    text = TEXTS["words, other words at the end"]
    right, left = (OnnxClassifier(b, threads=1).predict([text])[0] for b in (bundle_dir, left_bundle))
    assert right.truncated and left.truncated
    assert right.probabilities != pytest.approx(left.probabilities, abs=1e-5)


def test_whitespace_before_a_short_text_is_not_truncation(served):
    client, _ = served
    answer = client.post("/v1/predict", json={"texts": [TEXTS["whitespace then words"]]}).json()
    assert "truncated" not in answer["predictions"][0]


def test_all_texts_in_one_request_match_too(served):
    client, classifier = served
    texts = list(TEXTS.values())
    answers = client.post("/v1/predict", json={"texts": texts}).json()["predictions"]
    for answer, expected in zip(answers, classifier.predict(texts), strict=True):
        assert_same(answer, expected)
