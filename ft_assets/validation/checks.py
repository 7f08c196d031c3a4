"""The helper columns and GX expectations of each validation stage.

Rules run in stages because later rules take their parameters from the rows that survived earlier
ones: the inferred label set counts only rows with usable text, and a conflict needs two rows that
are otherwise valid. Rows rejected by an earlier stage are null in a later stage's helper column,
which GX leaves out of column expectations, so each row is counted by the first rule it fails.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import great_expectations as gx
import numpy as np
import pandas as pd
from great_expectations.expectations import Expectation

from ft_assets.validation.gx_runner import RULE_KEY
from ft_assets.validation.rules import (
    CLASS_MINIMUM,
    INGEST_OK,
    LABEL_ALLOWED,
    LABEL_CONFLICT,
    TEXT_LENGTH,
    TEXT_NOT_BLANK,
    ValidationRules,
)

INGEST_ERROR = "ingest_error"  # set by the readers on records they could not parse
TEXT = "check_text"
LABEL = "check_label"
DISTINCT_LABELS = "check_distinct_labels"
VALID_COUNT = "valid_count"


@dataclass(frozen=True, eq=False)
class Stage:
    frame: pd.DataFrame
    expectations: list[Expectation]


def _normalise_one(text: str) -> str:
    # On ASCII, NFKC is the identity and casefold() is lower(): skipping them halves the time on
    # typical English data, where pandas' .str chain is slower still.
    folded = text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split())


def normalise_text(text: pd.Series) -> pd.Series:
    """NFKC, casefolded, whitespace collapsed and stripped: texts equal under this are one example.

    The same normalisation as the split hash (`ft_assets.splitting.hashing.normalise`), so a text
    that counts as one example for splitting also counts as one for conflicting labels.
    """
    present = text.dropna()
    normalised = pd.Series(
        [_normalise_one(str(v)) for v in present.tolist()], index=present.index, dtype=object
    )
    return normalised.reindex(text.index)


def label_keys(labels: pd.Series) -> pd.Series:
    """Labels as strings (an integer label 1 and a string "1" are one class); missing or blank -> ""."""
    keys = labels.astype("string")
    return keys.where(keys.str.strip().ne("").fillna(False), "")


def text_stage(df: pd.DataFrame, rules: ValidationRules) -> Stage:
    stripped = df["text"].astype("string").str.strip()
    frame = pd.DataFrame({TEXT: stripped.mask(stripped.fillna("").eq(""))})
    expectations: list[Expectation] = []
    if INGEST_ERROR in df.columns:
        frame[INGEST_ERROR] = df[INGEST_ERROR]
        expectations.append(
            gx.expectations.ExpectColumnValuesToBeNull(
                column=INGEST_ERROR, meta={RULE_KEY: INGEST_OK}, description="the record was parsed"
            )
        )
    expectations += [
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column=TEXT, meta={RULE_KEY: TEXT_NOT_BLANK}, description="text is present and not blank"
        ),
        gx.expectations.ExpectColumnValueLengthsToBeBetween(
            column=TEXT,
            min_value=rules.min_text_chars,
            max_value=rules.max_text_chars,
            meta={RULE_KEY: TEXT_LENGTH},
            description=f"stripped text has {rules.min_text_chars}..{rules.max_text_chars} characters",
        ),
    ]
    return Stage(frame, expectations)


def infer_allowed_labels(keys: pd.Series, rules: ValidationRules) -> tuple[str, ...]:
    """Labels seen at least `min_examples_per_class` times among `keys` (rows with usable text)."""
    counts = keys[keys.ne("")].value_counts()
    return tuple(sorted(str(label) for label in counts[counts >= rules.min_examples_per_class].index))


def label_stage(keys: pd.Series, survivors: pd.Series, allowed: tuple[str, ...], inferred: bool) -> Stage:
    how = "inferred from the data" if inferred else "given"
    expectation = gx.expectations.ExpectColumnValuesToBeInSet(
        column=LABEL,
        value_set=list(allowed),
        meta={RULE_KEY: LABEL_ALLOWED},
        description=f"label is in the allowed set ({how}): {list(allowed)}",
    )
    return Stage(pd.DataFrame({LABEL: keys.where(survivors)}), [expectation])


def conflict_stage(keys: pd.Series, normalised: pd.Series, survivors: pd.Series) -> Stage:
    # Integer codes instead of a string groupby: several times faster on tens of thousands of rows.
    text_codes, _ = pd.factorize(normalised[survivors])
    label_codes, _ = pd.factorize(keys[survivors])
    pairs = pd.DataFrame({"text": text_codes, "label": label_codes}).drop_duplicates()
    labels_per_text = np.bincount(pairs["text"].to_numpy())
    distinct = pd.Series(labels_per_text[text_codes], index=keys.index[survivors.to_numpy()], dtype="float64")
    frame = pd.DataFrame({DISTINCT_LABELS: distinct.reindex(keys.index)})
    expectation = gx.expectations.ExpectColumnValuesToBeBetween(
        column=DISTINCT_LABELS,
        min_value=1,
        max_value=1,
        meta={RULE_KEY: LABEL_CONFLICT},
        description="each normalised text carries a single label",
    )
    return Stage(frame, [expectation])


def class_minimum_stage(class_counts: dict[str, int], rules: ValidationRules) -> Stage:
    frame = pd.DataFrame({VALID_COUNT: pd.Series(list(class_counts.values()), dtype="int64")})
    expectation = gx.expectations.ExpectColumnValuesToBeBetween(
        column=VALID_COUNT,
        min_value=rules.min_examples_per_class,
        meta={RULE_KEY: CLASS_MINIMUM},
        description=f"every allowed class has at least {rules.min_examples_per_class} valid examples",
    )
    return Stage(frame, [expectation])
