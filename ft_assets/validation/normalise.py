"""The one text normalisation and the one label normalisation rule of the pipeline.

Text: NFKC, casefolded, whitespace collapsed and stripped. Two texts with the same key are one example:
for duplicates, for conflicting labels and for the split hash alike.

Label, applied to the label exactly as read (raw values arrive as strings, see `ft_assets.ingest`):
1. missing: no value, or after stripping one of the null tokens in `NULL_LABELS` (compared casefolded);
2. Unicode NFKC, surrounding whitespace stripped;
3. numbers written as integral floats are integers (`1.0` -> `1`), booleans are `1`/`0` (`True` -> `1`,
   as JSON, Parquet and spreadsheets write them);
4. casefolded when `fold_label_case` is on;
5. renamed by `label_map`, whose keys go through steps 1-4 first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

import pandas as pd

NULL_LABELS = frozenset({"", "nan", "-nan", "none", "null", "n/a", "na", "<na>", "#n/a", "#na", "nil"})
BOOLEANS = {"true": "1", "false": "0"}
_INTEGRAL = re.compile(r"[+-]?\d+\.0*")
_NOT_ALNUM = re.compile(r"[\W_]+")


def text_key(text: str) -> str:
    # On ASCII, NFKC is the identity and casefold() is lower(): skipping them halves the time on English.
    folded = text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split())


def text_keys(texts: pd.Series) -> pd.Series:
    """`text_key` of every present value; missing stays missing."""
    present = texts.dropna()
    keys = pd.Series([text_key(str(v)) for v in present.tolist()], index=present.index, dtype=object)
    return keys.reindex(texts.index)


def _base(value: str, fold_case: bool) -> str | None:
    label = unicodedata.normalize("NFKC", value).strip()
    if label.casefold() in NULL_LABELS:
        return None
    if _INTEGRAL.fullmatch(label):
        label = str(int(float(label)))
    label = BOOLEANS.get(label.casefold(), label)
    return label.casefold() if fold_case else label


def normalise_labels(labels: pd.Series, fold_case: bool, label_map: Mapping[str, str]) -> pd.Series:
    """The rule applied to a column of raw labels; missing labels are None."""
    mapped = {_base(k, fold_case): v.strip() for k, v in label_map.items()}
    cache: dict[str, str | None] = {}
    for raw in labels.dropna().unique().tolist():
        label = _base(str(raw), fold_case)
        cache[raw] = mapped.get(label, label)
    return labels.map(cache).astype(object).where(labels.notna(), None)


def label_skeleton(label: str) -> str:
    """What two labels share when they look like variants: `Technical-Issue` ~ `technical_issue`."""
    return _NOT_ALNUM.sub("", label.casefold())
