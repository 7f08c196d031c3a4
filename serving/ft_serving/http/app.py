"""The FastAPI application: /v1/predict, /v1/model, /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from ft_serving.http.inference import InferencePool, PoolSettings
from ft_serving.http.limits import Limits, RejectedError, is_positive_seconds, parse_texts, read_body
from ft_serving.http.metrics import MetricsMiddleware, ServeMetrics
from ft_serving.http.models import ModelHolder, ServedModel, load_model
from ft_serving.http.watcher import POLL_INTERVAL_S, PointerWatcher
from ft_serving.locations import artifacts_dir
from ft_serving.predict_cli import to_record

log = logging.getLogger("ft_serving.http")

MODEL_VERSION_HEADER = "X-Model-Version"
_PREDICT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"texts": {"type": "array", "items": {"type": "string"}}},
                "required": ["texts"],
                "additionalProperties": False,
            }
        }
    },
}


@dataclass(frozen=True)
class ServeConfig:
    # A fixed bundle folder; None follows the production pointer under artifacts_root.
    model_dir: Path | None = None
    artifacts_root: str | None = None
    # Where bundles of a remote artifact root are fetched to (default: ft_serving.sync's cache).
    cache_dir: Path | None = None
    int8: bool = False
    threads: int | None = 1  # onnxruntime intra-op threads per inference call
    poll_interval_s: float = POLL_INTERVAL_S
    limits: Limits = field(default_factory=Limits)
    pool: PoolSettings = field(default_factory=PoolSettings)

    def __post_init__(self) -> None:
        if not is_positive_seconds(self.poll_interval_s):
            raise ValueError(f"poll_interval_s must be a positive number, got {self.poll_interval_s}")

    def load(self, bundle_dir: Path) -> ServedModel:
        return load_model(bundle_dir, int8=self.int8, threads=self.threads)


def create_app(config: ServeConfig, model: ServedModel | None = None) -> FastAPI:
    """The app; with ``model_dir`` it serves ``model`` (or loads it at start-up) and never swaps."""
    metrics = ServeMetrics()
    holder = ModelHolder()
    pool = InferencePool(config.pool, metrics)
    watcher = (
        None
        if config.model_dir is not None
        else PointerWatcher(
            config.artifacts_root or artifacts_dir(),
            holder,
            config.load,
            metrics,
            config.poll_interval_s,
            config.cache_dir,
        )
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        polling = None
        if watcher is None:
            assert config.model_dir is not None
            served = model or await asyncio.to_thread(config.load, config.model_dir)
            holder.swap(served)
            metrics.served(served.model_version, served.data_version)
        else:
            # Not awaited: fetching and loading the first bundle can take minutes, and until start-up
            # ends nothing is answered, not even /healthz. /readyz says 503 until the model is in.
            polling = asyncio.create_task(watcher.run(), name="ft-serve-watcher")
        await pool.start()
        try:
            yield
        finally:
            if polling is not None:
                polling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await polling
            await pool.stop()

    app = FastAPI(
        title="ft-serve", summary="Text classification with the production ONNX bundle", lifespan=lifespan
    )
    app.state.holder = holder
    app.state.metrics = metrics
    app.state.watcher = watcher
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    def reject(reason: str, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        metrics.errors.labels(reason=reason).inc()
        return JSONResponse({"error": message, "reason": reason}, status_code=status, headers=headers)

    @app.exception_handler(RejectedError)
    async def rejected(_: Request, error: RejectedError) -> JSONResponse:
        retry = {"Retry-After": "1"} if error.status == 503 else None
        return reject(error.reason, error.status, error.message, retry)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        """Starlette's own 404 and 405, in the error shape and count of every other refusal."""
        reason = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_")
        # repr: a percent-encoded newline in the path must not break the one-line message.
        message = f"{error.detail}: {request.method} {request.url.path!r}"
        return reject(reason, error.status_code, message, dict(error.headers or {}))

    @app.exception_handler(Exception)
    async def failed(_: Request, error: Exception) -> JSONResponse:
        log.exception("request failed")
        return reject("internal", 500, f"internal error: {type(error).__name__}")

    def current() -> ServedModel:
        served = holder.current
        if served is None:
            raise RejectedError(503, "not_ready", "no model loaded yet")
        return served

    @app.post("/v1/predict", openapi_extra={"requestBody": _PREDICT_BODY})
    async def predict(request: Request) -> JSONResponse:
        """``{"texts": [...]}`` -> one ft-predict object per text, in order, from one model."""
        served = current()  # taken once: a swap during this request does not affect it
        content_type = request.headers.get("content-type", "application/json")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise RejectedError(
                415, "unsupported_media_type", f"Content-Type must be application/json, not {content_type}"
            )
        body = await read_body(request.headers.get("content-length"), request.stream(), config.limits)
        texts = parse_texts(body, config.limits)
        metrics.request_texts.observe(len(texts))
        predictions = await pool.predict(served, texts)
        records = []
        for prediction in predictions:
            metrics.truncated.inc(prediction.truncated)
            records.append(to_record(prediction))
        return JSONResponse(
            {"model_version": served.model_version, "predictions": records},
            headers={MODEL_VERSION_HEADER: served.model_version},
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        served = holder.current
        if served is None:
            return JSONResponse({"status": "not ready", "reason": "no model loaded yet"}, status_code=503)
        return JSONResponse({"status": "ready", "model_version": served.model_version})

    @app.get("/v1/model")
    async def model_info() -> dict[str, Any]:
        return current().describe()

    @app.get("/metrics")
    async def prometheus() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    return app
