"""What a prediction request may hold, and how a request body becomes checked texts.

Every violation is a ``RejectedError`` with a 4xx status and a one-line reason; nothing a client
sends can reach the model unchecked or turn into a 500.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from ft_serving import strict_json


@dataclass(frozen=True)
class Limits:
    """No limit on a text's length: texts reach the model whole, so it reads what it read in evaluation.
    ``max_body_bytes`` bounds the tokenizer's work instead: the slowest 1 MiB body measured (one text of
    punctuation) took 1.6 s on one core, and a cut of each text could not lower that."""

    max_body_bytes: int = 1 << 20
    max_texts: int = 256
    # A client that stops sending its body would hold its connection and buffer, and delay shutdown,
    # for ever; below ft-serve's GRACEFUL_SHUTDOWN_S so such a request ends with its 408 first.
    body_timeout_s: float = 15.0

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_texts"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not is_positive_seconds(self.body_timeout_s):
            raise ValueError(f"body_timeout_s must be a positive number, got {self.body_timeout_s}")


def is_positive_seconds(value: float) -> bool:
    """A wait that ends: 0 or less would spin (or back off from 0 to 0), NaN or infinity never end."""
    return math.isfinite(value) and value > 0


class RejectedError(Exception):
    """A request refused with a 4xx (or 503 when overloaded) and a one-line message."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    texts: list[StrictStr]


async def read_body(content_length: str | None, chunks: AsyncIterator[bytes], limits: Limits) -> bytes:
    """The body, refused as soon as it is known to exceed the size limit (declared or streamed), or
    when it has not all arrived within ``limits.body_timeout_s``."""
    limit = limits.max_body_bytes
    if content_length is not None:
        if not content_length.isdigit():
            raise RejectedError(
                400, "bad_content_length", f"Content-Length {content_length!r} is not a number"
            )
        if int(content_length) > limit:
            raise RejectedError(413, "body_too_large", f"body of {content_length} bytes exceeds {limit}")
    body = bytearray()
    deadline = asyncio.timeout(limits.body_timeout_s)
    try:
        async with deadline:
            async for chunk in chunks:
                body += chunk
                if len(body) > limit:
                    raise RejectedError(413, "body_too_large", f"body exceeds {limit} bytes")
    except TimeoutError:
        if not deadline.expired():
            raise
        raise RejectedError(
            408, "body_timeout", f"body not received within {limits.body_timeout_s:g} s"
        ) from None
    return bytes(body)


def parse_texts(body: bytes, limits: Limits) -> list[str]:
    """The texts of ``{"texts": [str, ...]}``, or RejectedError naming what is wrong."""
    try:
        request = PredictRequest.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        if first["type"] == "json_invalid":
            raise RejectedError(400, "malformed_json", f"body is not valid JSON: {first['msg']}") from None
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise RejectedError(
            422, "invalid_request", f'{where}: {first["msg"]} (expected {{"texts": [string, ...]}})'
        ) from None
    if body.count(b'"texts"') > 1 or b"\\u" in body:
        # pydantic keeps the last of two "texts" keys; which list the client meant is not known. A key can
        # also be spelt with \u escapes ("te\u0078ts"), the only escapes that make letters. (The count
        # also matches a text that is exactly "texts"; only then is the body parsed a second time.)
        try:
            strict_json.loads(body)
        except ValueError as error:  # a field twice (RepeatedFieldError), or JSON pydantic took and json not
            raise RejectedError(400, "malformed_json", f"body is not valid JSON: {error}") from None
    if len(request.texts) > limits.max_texts:
        raise RejectedError(
            413,
            "too_many_texts",
            f"{len(request.texts)} texts exceed the limit of {limits.max_texts} a request",
        )
    return request.texts
