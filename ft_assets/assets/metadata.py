"""Small helpers that turn frames and dicts into readable Dagster metadata."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import pandas as pd


def counts_md(counts: Mapping[str, int], key: str = "label", value: str = "rows") -> dg.MetadataValue:
    total = sum(counts.values()) or 1
    lines = [f"| {key} | {value} | share |", "|---|---:|---:|"]
    lines += [f"| {k} | {v:,} | {v / total:.1%} |" for k, v in counts.items()]
    return dg.MetadataValue.md("\n".join(lines))


def class_counts(frame: pd.DataFrame, column: str = "label") -> dict[str, int]:
    return {str(k): int(v) for k, v in frame[column].value_counts().sort_index().items()}


def md_table(rows: list[Mapping[str, object]], columns: list[str]) -> dg.MetadataValue:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")[:160]

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return dg.MetadataValue.md("\n".join(lines))
