"""JSON objects that name a field twice are refused, not resolved: `json.loads` would silently keep the
last value, and which one the writer meant is not known (a label, a text, a request's texts)."""

from __future__ import annotations

import json
from typing import Any


class RepeatedFieldError(ValueError):
    def __init__(self, field: str) -> None:
        super().__init__(f"field {field!r} appears twice in the object")
        self.field = field


def _unique_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise RepeatedFieldError(key)
        obj[key] = value
    return obj


def loads(text: str | bytes) -> Any:
    """`json.loads`, raising RepeatedFieldError for an object that names a field twice."""
    return json.loads(text, object_pairs_hook=_unique_fields)
