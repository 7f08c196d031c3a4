"""The one text normalisation and the one label normalisation rule of the pipeline.

Text: NFKC, casefolded, invisible characters removed (`INVISIBLE`), whitespace collapsed and stripped. Two
texts with the same key are one example: for duplicates, for conflicting labels and for the split hash alike.

Label, applied to the label exactly as read (raw values arrive as strings, see `ft_assets.ingest`):
1. missing: no value, or after stripping one of the null tokens in `NULL_LABELS` (compared casefolded);
2. Unicode NFKC, surrounding whitespace stripped;
3. numbers written as integral floats are integers (`1.0` -> `1`, `-007.00` -> `-7`, `-0.0` -> `0`), by
   string rules, so every digit is kept however long; booleans are `1`/`0` (`True` -> `1`, as JSON, Parquet
   and spreadsheets write them);
4. casefolded when `fold_label_case` is on;
5. renamed by `label_map`, whose keys go through steps 1-4 first. A missing label stays missing whatever
   `label_map` says: a key or a target that is a null token, or two keys that are one label with different
   targets, is a configuration error (`ValueError` naming the key).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

import pandas as pd
import regex

# Unicode's Default_Ignorable_Code_Point: zero-width space and joiners, soft hyphen, byte-order mark, bidi
# marks, variation selectors, tag characters. They render as nothing (an uncased BERT tokenizer, as
# MiniLM's, drops all but the Hangul fillers), so a copy of a text sprinkled with them is the same text
# to a reader and to the model.
# All are outside ASCII: an ASCII text's key does not depend on them.
INVISIBLE = regex.compile(r"\p{Default_Ignorable_Code_Point}+")

NULL_LABELS = frozenset({"", "nan", "-nan", "none", "null", "n/a", "na", "<na>", "#n/a", "#na", "nil"})
BOOLEANS = {"true": "1", "false": "0"}
_INTEGRAL = re.compile(r"([+-]?)(\d+)\.0*")
_NOT_ALNUM = re.compile(r"[\W_]+")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


def text_key(text: str) -> str:
    # On ASCII, NFKC is the identity and casefold() is lower(): skipping them halves the time on English.
    if text.isascii():
        folded = text.lower()
    else:
        folded = INVISIBLE.sub("", unicodedata.normalize("NFKC", text).casefold())
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
    if integral := _INTEGRAL.fullmatch(label):
        label = _integer(*integral.groups())
    label = BOOLEANS.get(label.casefold(), label)
    return label.casefold() if fold_case else label


def _integer(sign: str, digits: str) -> str:
    """`sign digits .0*` as the integer it is, without a float: `+007` -> `7`, `-0` -> `0`."""
    if not digits.isascii():  # other scripts' decimal digits (Arabic-Indic ...), as int() reads them
        digits = "".join(str(unicodedata.decimal(c)) for c in digits)
    digits = digits.lstrip("0") or "0"
    return f"-{digits}" if sign == "-" and digits != "0" else digits


def label_renames(label_map: Mapping[str, str], fold_case: bool) -> dict[str, str]:
    """`label_map` with its keys normalised; ValueError naming the key when it would invent or merge a label.

    A missing label must stay missing (and be quarantined as such), so neither a key nor a target may be a
    null token; two keys that normalise to one label must not name different targets.
    """
    renames: dict[str, str] = {}
    spelled: dict[str, str] = {}
    for key, target in label_map.items():
        label = _base(key, fold_case)
        if label is None:
            raise ValueError(
                f"label_map key {key!r} is a missing-label token (empty, None, null, N/A, NaN and the like): "
                "rows with such a label are quarantined as missing (label_present), never renamed; "
                "remove the key"
            )
        if _base(target, fold_case) is None:
            raise ValueError(
                f"label_map maps {key!r} to {target!r}, a missing-label token; map it to a class name "
                "(to drop a class, leave it out of allowed_labels)"
            )
        # The target is normalised like every label (case folded with fold_case, `1.0` -> `1`), so a
        # renamed row lands in the class its spelling names, not in a look-alike of it.
        renamed = _base(target, fold_case)
        if label in renames and renames[label] != renamed:
            raise ValueError(
                f"label_map keys {spelled[label]!r} and {key!r} are one label ({label!r}) after "
                f"normalising, but map to {renames[label]!r} and {renamed!r}; keep one"
            )
        renames[label], spelled[label] = renamed, key
    return renames


def normalise_labels(labels: pd.Series, fold_case: bool, label_map: Mapping[str, str]) -> pd.Series:
    """The rule applied to a column of raw labels; missing labels are None, whatever `label_map` says."""
    renames = label_renames(label_map, fold_case)
    cache: dict[str, str | None] = {}
    for raw in labels.dropna().unique().tolist():
        label = _base(str(raw), fold_case)
        cache[raw] = None if label is None else renames.get(label, label)
    mapped = labels.map(cache).astype(object)
    # A null token maps to None, which map() turns into NaN: both are a missing label.
    return mapped.where(mapped.notna(), None)


def label_skeleton(label: str) -> str:
    """What two labels share when they look like variants: `Technical-Issue` ~ `technical_issue`, and
    `01` ~ `1` (step 3 reads `01.0` as `1`, so a bare `01` beside a `1` is a variant, not a class)."""
    return _LEADING_ZEROS.sub("", _NOT_ALNUM.sub("", label.casefold()))
