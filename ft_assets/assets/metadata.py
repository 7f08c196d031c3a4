"""Small helpers that turn frames and dicts into readable Dagster metadata."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import pandas as pd

from ft_assets.markdown import escape_cell, table

# Long cells (a quarantined text, say) are cut so one row cannot flood the metadata panel.
MAX_CELL_CHARS = 160


def counts_md(counts: Mapping[str, int], key: str = "label", value: str = "rows") -> dg.MetadataValue:
    total = sum(counts.values()) or 1
    rows = [[escape_cell(k), f"{v:,}", f"{v / total:.1%}"] for k, v in counts.items()]
    return dg.MetadataValue.md(table([key, value, "share"], rows, "lrr"))


def class_counts(frame: pd.DataFrame, column: str = "label") -> dict[str, int]:
    return {str(k): int(v) for k, v in frame[column].value_counts().sort_index().items()}


def md_table(rows: list[Mapping[str, object]], columns: list[str]) -> dg.MetadataValue:
    cells = [[escape_cell(r.get(c, ""), MAX_CELL_CHARS) for c in columns] for r in rows]
    return dg.MetadataValue.md(table(columns, cells))
