"""Run GX 1.x expectation suites on in-memory frames and return which rows each expectation rejected.

One ephemeral context per process serves every call: it keeps every store in memory, so nothing is
written under the project, and its progress bars are off so logs stay readable.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.core.expectation_validation_result import ExpectationValidationResult
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations import Expectation

# COMPLETE is what carries unexpected_index_list (the rows to quarantine); the partial lists and the
# pandas query string are skipped because nothing reads them and they cost time on large failures.
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "partial_unexpected_count": 0,
    "return_unexpected_index_query": False,
}
RULE_KEY = "rule"


@dataclass(frozen=True)
class RuleResult:
    """One expectation's verdict, with the positions of the rows it rejected."""

    rule: str
    expectation_type: str
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_index: tuple[int, ...]


class GxRunner:
    """An ephemeral GX context with one whole-dataframe batch definition, reused for every frame.

    The context re-serialises its config on every datasource or asset added, which costs more than
    validating a small frame, so the assets are made once and each call only passes a new dataframe.
    """

    def __init__(self) -> None:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        asset = context.data_sources.add_pandas(name="labeled_examples").add_dataframe_asset(name="frame")
        self._batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        self._lock = threading.Lock()

    def validate(self, frame: pd.DataFrame, expectations: Sequence[Expectation]) -> list[RuleResult]:
        """Validate `frame` (which must have a 0..n-1 index) against `expectations`.

        Each expectation must carry `meta={"rule": <rule id>}`; results come back keyed by it.
        """
        if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0:
            raise ValueError("frame must have a 0..n-1 RangeIndex so GX row indices are positions")
        # The suite is never added to the context, so nothing accumulates between calls.
        suite = gx.ExpectationSuite(name="labeled_examples", expectations=list(expectations))
        with self._lock:  # a GX context is not safe to share between threads
            batch = self._batch_definition.get_batch(batch_parameters={"dataframe": frame})
            outcome = batch.validate(suite, result_format=RESULT_FORMAT)
        return [_to_rule_result(result) for result in outcome.results]


@functools.cache
def shared_runner() -> GxRunner:
    """The process-wide runner: building a context takes longer than validating a small frame."""
    return GxRunner()


def _to_rule_result(result: ExpectationValidationResult) -> RuleResult:
    config = result.expectation_config
    error = _exception_message(result.exception_info or {})
    if error is not None:
        # A crashed expectation is a bug in the suite, not a data problem: never report it as data.
        raise RuntimeError(f"GX expectation {config.type} on {config.kwargs.get('column')!r} raised: {error}")
    details = result.result
    return RuleResult(
        rule=str(config.meta[RULE_KEY]),
        expectation_type=str(config.type),
        success=bool(result.success),
        element_count=int(details.get("element_count", 0)),
        unexpected_count=int(details.get("unexpected_count", 0)),
        unexpected_index=tuple(int(i) for i in details.get("unexpected_index_list", [])),
    )


def _exception_message(info: dict[str, Any]) -> str | None:
    """GX reports errors either flat or keyed by the metric that failed; find one in either shape."""
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for entry in entries:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message"))
    return None
