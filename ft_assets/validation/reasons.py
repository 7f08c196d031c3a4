"""Human-readable reasons for quarantined rows, one per rejected row position."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ft_assets.validation.rules import ValidationRules

MAX_LABELS_SHOWN = 20


def ingest_reasons(errors: pd.Series, positions: Sequence[int]) -> list[str]:
    return [f"the record could not be read: {errors.iloc[p]}" for p in positions]


def blank_text_reasons(text: pd.Series, positions: Sequence[int]) -> list[str]:
    return ["text is missing" if pd.isna(text.iloc[p]) else "text is blank" for p in positions]


def length_reasons(stripped: pd.Series, positions: Sequence[int], rules: ValidationRules) -> list[str]:
    out: list[str] = []
    for p in positions:
        length = len(stripped.iloc[p])
        if length > rules.max_text_chars:
            out.append(f"text length {length} exceeds max_text_chars={rules.max_text_chars}")
        else:
            out.append(f"text length {length} is below min_text_chars={rules.min_text_chars}")
    return out


def _show_labels(labels: Sequence[str]) -> str:
    shown = ", ".join(repr(label) for label in labels[:MAX_LABELS_SHOWN])
    more = f", ... ({len(labels) - MAX_LABELS_SHOWN} more)" if len(labels) > MAX_LABELS_SHOWN else ""
    return f"[{shown}{more}]"


def label_reasons(
    keys: pd.Series,
    positions: Sequence[int],
    allowed: Sequence[str],
    rules: ValidationRules,
    support: pd.Series | None,
) -> list[str]:
    """`support` (label -> rows with usable text) is given when the allowed set was inferred."""
    out: list[str] = []
    for p in positions:
        key = str(keys.iloc[p])
        if not key:
            out.append("label is missing")
            continue
        reason = f"label {key!r} is not in the allowed set {_show_labels(allowed)}"
        if support is not None:
            seen = int(support.get(key, 0))
            times = "time" if seen == 1 else "times"
            reason += (
                f" (inferred from the data: seen {seen} {times} among rows with usable text, "
                f"below min_examples_per_class={rules.min_examples_per_class})"
            )
        out.append(reason)
    return out


def conflict_reasons(
    rows: pd.DataFrame, keys: pd.Series, normalised: pd.Series, positions: Sequence[int]
) -> list[str]:
    """Name, for each row, the first row of every other label that carries the same text."""
    index = list(positions)
    picked = rows.iloc[index]
    where = picked["source_file"].astype(str) + ":" + picked["source_line"].astype(str)
    group = pd.DataFrame(
        {
            "norm": normalised.iloc[index].to_numpy(),
            "key": keys.iloc[index].to_numpy(),
            "where": where.to_numpy(),
        }
    )
    first_of_label: dict[str, list[tuple[str, str]]] = {}
    for norm, key, where in group.drop_duplicates(["norm", "key"]).itertuples(index=False):
        first_of_label.setdefault(norm, []).append((key, where))
    out: list[str] = []
    for norm, key in zip(group["norm"], group["key"], strict=True):
        others = [f"{other!r} at {where}" for other, where in first_of_label[norm] if other != key]
        out.append("text also labelled " + ", ".join(others))
    return out
