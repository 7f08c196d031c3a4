"""Prometheus metrics of one ft-serve app, in a registry of its own (several apps can share a process)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Paths get their own label value; anything else is "other", so scanners cannot blow up cardinality.
KNOWN_PATHS = frozenset({"/v1/predict", "/v1/model", "/healthz", "/readyz", "/metrics"})
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ft_serve_requests", "HTTP requests answered", ["path", "status"], registry=self.registry
        )
        self.errors = Counter(
            "ft_serve_request_errors",
            "Requests answered with an error, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ft_serve_request_latency_seconds",
            "Time from request to response",
            ["path"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.request_texts = Histogram(
            "ft_serve_request_texts",
            "Texts per prediction request",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "ft_serve_inference_batch_texts",
            "Texts per onnxruntime call (after micro-batching)",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.pending = Gauge(
            "ft_serve_pending_requests",
            "Prediction requests queued or running in the worker pool",
            registry=self.registry,
        )
        self.truncated = Counter(
            "ft_serve_truncated_texts", "Texts cut to the model's max_length tokens", registry=self.registry
        )
        self.model_info = Gauge(
            "ft_serve_model_info",
            "The model being served (value 1)",
            ["model_version", "data_version"],
            registry=self.registry,
        )
        self.swaps = Counter(
            "ft_serve_model_swaps",
            "Model loads after start-up, by result",
            ["result"],
            registry=self.registry,
        )
        self.swaps.labels(result="ok")
        self.swaps.labels(result="refused")

    def served(self, model_version: str, data_version: str) -> None:
        self.model_info.clear()
        self.model_info.labels(model_version=model_version, data_version=data_version).set(1)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware copy of the body): counts and times every HTTP response."""

    def __init__(self, app: ASGIApp, metrics: ServeMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"] if scope["path"] in KNOWN_PATHS else "other"
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            self.metrics.requests.labels(path=path, status=str(status)).inc()
            self.metrics.latency.labels(path=path).observe(time.perf_counter() - started)
