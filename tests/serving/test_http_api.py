"""ft-serve's HTTP API through FastAPI's TestClient: answers, limits and every kind of bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ft_serving.http.app import ServeConfig, create_app
from ft_serving.http.inference import PoolSettings
from ft_serving.http.limits import Limits
from ft_serving.predict_cli import main as ft_predict

from tests.conftest import TINY_LABELS
from tests.serving.conftest import MODEL_VERSION

LIMITS = Limits(max_body_bytes=2048, max_texts=4)
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def client(bundle_dir: Path) -> Iterator[TestClient]:
    config = ServeConfig(
        model_dir=bundle_dir, limits=LIMITS, pool=PoolSettings(workers=2, batching=True, max_batch=8)
    )
    with TestClient(create_app(config)) as test_client:
        yield test_client


def metric(client: TestClient, line_start: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_predict_returns_ft_predicts_objects(client, bundle_dir, capsys):
    texts = ["my card was charged twice", "", "où est mon colis 📦", "שלום", "naïve\x00text"]
    response = client.post("/v1/predict", json={"texts": texts[:4]})
    second = client.post("/v1/predict", json={"texts": texts[4:]})
    assert response.status_code == second.status_code == 200
    assert response.headers["x-model-version"] == MODEL_VERSION
    served = response.json()["predictions"] + second.json()["predictions"]
    assert ft_predict(["--model", str(bundle_dir), *texts]) == 0
    expected = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["text"] for s in served] == texts
    assert [s["label"] for s in served] == [e["label"] for e in expected]
    for s, e in zip(served, expected, strict=True):
        assert s.keys() == e.keys()
        assert s["probabilities"] == pytest.approx(e["probabilities"], abs=1e-5)
        assert set(s["probabilities"]) == set(TINY_LABELS)


def test_empty_list_gets_empty_answer(client):
    response = client.post("/v1/predict", json={"texts": []})
    assert response.status_code == 200
    assert response.json() == {"model_version": MODEL_VERSION, "predictions": []}


def test_too_long_text_is_cut_and_flagged_but_echoed_whole(client):
    long_text = "refund " * 100  # 200 tokens ("ref", "##und") > the bundle's max_length of 64
    response = client.post("/v1/predict", json={"texts": [long_text, "short"]})
    assert response.status_code == 200
    long_answer, short_answer = response.json()["predictions"]
    assert long_answer["text"] == long_text and long_answer["truncated"] is True
    assert "truncated" not in short_answer
    # Cut by the model's own token limit, as in evaluation: the first 62 tokens plus [CLS] and [SEP].
    cut = client.post("/v1/predict", json={"texts": ["refund " * 31]}).json()["predictions"][0]
    assert "truncated" not in cut
    assert cut["probabilities"] == pytest.approx(long_answer["probabilities"], abs=1e-6)


def test_model_health_and_readiness(client, bundle_dir):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "model_version": MODEL_VERSION}
    model = client.get("/v1/model").json()
    assert model["model_version"] == MODEL_VERSION and model["data_version"] == "d-test"
    assert model["labels"] == TINY_LABELS
    assert model["metrics"] == {"accuracy": 0.5, "macro_f1": 0.5}
    assert model["max_length"] > 0 and model["int8"] is False and model["bundle"] == bundle_dir.name


def test_metrics_in_prometheus_text_format(client):
    before = metric(client, 'ft_serve_requests_total{path="/v1/predict",status="200"}')
    texts_before = metric(client, "ft_serve_request_texts_sum")
    client.post("/v1/predict", json={"texts": ["a", "b", "c"]})
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert metric(client, 'ft_serve_requests_total{path="/v1/predict",status="200"}') == before + 1
    assert metric(client, "ft_serve_request_texts_sum") == texts_before + 3
    assert (
        metric(client, f'ft_serve_model_info{{data_version="d-test",model_version="{MODEL_VERSION}"}}') == 1
    )
    assert metric(client, 'ft_serve_request_latency_seconds_bucket{le="+Inf",path="/v1/predict"}') >= 1
    assert metric(client, "ft_serve_inference_batch_texts_count") >= 1
    assert 'ft_serve_model_swaps_total{result="refused"} 0.0' in response.text
    assert "\nft_serve_pending_requests 0.0\n" in response.text  # every request has finished


def _chunks(size: int) -> Iterator[bytes]:
    yield b'{"texts": ["'
    for _ in range(size // 100):
        yield b"x" * 100
    yield b'"]}'


BAD_REQUESTS = {
    "malformed JSON": (b'{"texts": ["a"', JSON, 400, "malformed_json"),
    "trailing garbage": (b'{"texts": ["a"]} x', JSON, 400, "malformed_json"),
    "not UTF-8": (b'{"texts": ["\xff\xfe"]}', JSON, 400, "malformed_json"),
    "lone surrogate": (b'{"texts": ["\\ud800"]}', JSON, 400, "malformed_json"),
    "empty body": (b"", JSON, 400, "malformed_json"),
    "array body": (b'["a"]', JSON, 422, "invalid_request"),
    "texts missing": (b'{"text": ["a"]}', JSON, 422, "invalid_request"),
    "texts a string": (b'{"texts": "a"}', JSON, 422, "invalid_request"),
    "texts null": (b'{"texts": null}', JSON, 422, "invalid_request"),
    "a number among texts": (b'{"texts": ["a", 3]}', JSON, 422, "invalid_request"),
    "a null among texts": (b'{"texts": [null]}', JSON, 422, "invalid_request"),
    "nested list": (b'{"texts": [["a"]]}', JSON, 422, "invalid_request"),
    "unknown field": (b'{"texts": ["a"], "int8": true}', JSON, 422, "invalid_request"),
    "texts twice": (b'{"texts": ["a"], "texts": ["b", "c"]}', JSON, 400, "malformed_json"),
    "texts twice, once escaped": (b'{"texts": ["a"], "te\\u0078ts": ["b"]}', JSON, 400, "malformed_json"),
    "too many texts": (json.dumps({"texts": ["a"] * 5}).encode(), JSON, 413, "too_many_texts"),
    "declared body too large": (b"x" * 2049, JSON, 413, "body_too_large"),
    "form content type": (
        b"texts=a",
        {"content-type": "application/x-www-form-urlencoded"},
        415,
        "unsupported_media_type",
    ),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_bad_input_gets_a_clear_4xx(client, case):
    body, headers, status, reason = BAD_REQUESTS[case]
    errors_before = metric(client, f'ft_serve_request_errors_total{{reason="{reason}"}}')
    response = client.post("/v1/predict", content=body, headers=headers)
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["reason"] == reason
    assert answer["error"] and "\n" not in answer["error"]
    assert metric(client, f'ft_serve_request_errors_total{{reason="{reason}"}}') == errors_before + 1


def test_streamed_body_over_the_limit_is_refused_without_content_length(client):
    response = client.post("/v1/predict", content=_chunks(5000), headers=JSON)
    assert response.status_code == 413 and response.json()["reason"] == "body_too_large"


@pytest.mark.parametrize(
    ("method", "path", "status", "reason"),
    [
        ("GET", "/v1/predict", 405, "method_not_allowed"),
        ("DELETE", "/healthz", 405, "method_not_allowed"),
        ("POST", "/v2/predict", 404, "not_found"),
        ("GET", "/v1/%0Apredict", 404, "not_found"),
    ],
)
def test_unknown_path_and_wrong_method(client, method, path, status, reason):
    errors_before = metric(client, f'ft_serve_request_errors_total{{reason="{reason}"}}')
    response = client.request(method, path, json={"texts": ["a"]})
    assert response.status_code == status
    answer = response.json()
    assert answer.keys() == {"error", "reason"} and answer["reason"] == reason
    assert answer["error"] and "\n" not in answer["error"]
    assert metric(client, f'ft_serve_request_errors_total{{reason="{reason}"}}') == errors_before + 1
    if status == 405:
        assert method not in response.headers["allow"]


def test_error_messages_name_the_problem(client):
    wrong_type = client.post("/v1/predict", json={"texts": ["a", 3]}).json()["error"]
    assert wrong_type.startswith("texts.1: Input should be a valid string")
    too_many = client.post("/v1/predict", json={"texts": ["a"] * 5}).json()["error"]
    assert too_many == "5 texts exceed the limit of 4 a request"


def test_concurrent_requests_each_get_their_own_answers(client):
    """Micro-batching merges requests into one onnxruntime call; no answer may land in the wrong one."""
    from concurrent.futures import ThreadPoolExecutor

    def ask(i: int) -> tuple[int, list[str]]:
        texts = [f"request {i} text {j}" for j in range(1 + i % 3)]
        response = client.post("/v1/predict", json={"texts": texts})
        return i, [p["text"] for p in response.json()["predictions"]]

    with ThreadPoolExecutor(8) as threads:
        answers = list(threads.map(ask, range(40)))
    for i, texts in answers:
        assert texts == [f"request {i} text {j}" for j in range(1 + i % 3)]


def test_not_ready_until_a_model_is_promoted(tmp_path):
    with TestClient(create_app(ServeConfig(artifacts_root=str(tmp_path)))) as empty:
        assert empty.get("/healthz").status_code == 200
        assert empty.get("/readyz").status_code == 503
        response = empty.post("/v1/predict", json={"texts": ["a"]})
        assert response.status_code == 503 and response.json()["reason"] == "not_ready"
        assert response.headers["retry-after"] == "1"
        assert empty.get("/v1/model").status_code == 503


def test_requests_beyond_max_pending_get_503(bundle_dir):
    import asyncio

    from ft_serving.http.inference import InferencePool
    from ft_serving.http.limits import RejectedError
    from ft_serving.http.metrics import ServeMetrics
    from ft_serving.http.models import load_model

    model = load_model(bundle_dir, int8=False, threads=1)

    async def two_requests() -> RejectedError:
        pool = InferencePool(PoolSettings(workers=1, max_pending=1), ServeMetrics())
        await pool.start()
        first = asyncio.create_task(pool.predict(model, ["a text"] * 64))
        await asyncio.sleep(0)  # the first request is admitted and waits for its worker
        try:
            with pytest.raises(RejectedError) as refused:
                await pool.predict(model, ["another"])
            assert len(await first) == 64  # the admitted request still completes
        finally:
            await pool.stop()
        return refused.value

    refused = asyncio.run(two_requests())
    assert (refused.status, refused.reason) == (503, "overloaded")
