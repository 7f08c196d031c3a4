"""Audit findings on label normalisation and the control-character check: each was a silent change."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pydantic
import pytest

from ft_assets.validation.normalise import normalise_labels
from ft_assets.validation.rules import ValidationRules
from ft_assets.validation.suite import validate_examples


def frame(rows: list[tuple[Any, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": pd.Series([t for t, _ in rows], dtype=object),
            "label": pd.Series([label for _, label in rows], dtype=object),
            "source_file": "a.csv",
            "source_line": range(2, 2 + len(rows)),
        }
    )


def clean(per_class: int = 10) -> list[tuple[Any, Any]]:
    return [(f"{label} question {i}", label) for label in ("billing", "shipping") for i in range(per_class)]


def normalised(labels: list[Any], fold_case: bool = False, label_map: dict[str, str] | None = None) -> list:
    return normalise_labels(pd.Series(labels, dtype=object), fold_case, label_map or {}).tolist()


# 1. A label_map key that is a null token used to give its target to every missing label.


@pytest.mark.parametrize("key", ["None", "null", "N/A", "nan", "", "  ", "<NA>"])
def test_a_label_map_key_that_is_a_null_token_is_a_config_error_naming_it(key: str) -> None:
    with pytest.raises(ValueError, match=f"label_map key {key!r} is a missing-label token"):
        normalised(["billing", None, "", "nan"], label_map={key: "billing"})


@pytest.mark.parametrize("target", ["", " ", "None", "N/A", "nan"])
def test_a_label_map_target_that_is_a_null_token_is_a_config_error(target: str) -> None:
    with pytest.raises(ValueError, match=f"label_map maps 'spam' to {target!r}"):
        normalised(["spam"], label_map={"spam": target})


def test_label_map_keys_that_normalise_alike_with_different_targets_are_a_config_error() -> None:
    with pytest.raises(ValueError, match=r"label_map keys 'Pos' and 'POS' are one label \('pos'\)"):
        normalised(["pos"], fold_case=True, label_map={"Pos": "positive", "POS": "negative"})
    # The same target twice is no conflict.
    assert normalised(["POS"], fold_case=True, label_map={"Pos": "positive", "POS": "positive"}) == [
        "positive"
    ]


def test_blank_label_cells_are_quarantined_not_given_a_mapped_class() -> None:
    rows = [*clean(), ("no label given", None), ("blank label cell", "")]
    with pytest.raises(ValueError, match="label_map key 'None'"):
        validate_examples(frame(rows), ValidationRules(label_map={"None": "billing"}))
    # Without the bad key, the same rows are quarantined as missing labels.
    out = validate_examples(frame(rows), ValidationRules(label_map={"shipping": "delivery"}))
    assert out.class_counts == {"billing": 10, "delivery": 10}
    assert sorted(out.quarantined["rule"]) == ["label_present", "label_present"]


# 2. Integral-looking labels went through float and lost precision.


def test_large_integral_labels_keep_every_digit() -> None:
    labels = ["12345678901234567891.0", "12345678901234567890.0", "12345678901234567891"]
    assert normalised(labels) == ["12345678901234567891", "12345678901234567890", "12345678901234567891"]


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("1.0", "1"),
        ("1.", "1"),
        ("1.000", "1"),
        ("+7.0", "7"),
        ("-7.00", "-7"),
        ("-0.0", "0"),
        ("+0.0", "0"),
        ("007.0", "7"),
        ("-007.0", "-7"),
        ("000.0", "0"),
        (" 3.0 ", "3"),
        ("１.０", "1"),  # fullwidth: NFKC first
        ("\u0661\u0662.0", "12"),  # Arabic-Indic digits, as int(float()) read them before
        ("1.5", "1.5"),
        ("7", "7"),
        ("007", "007"),  # no decimal point: a code, not a float, left as written
        ("1e3", "1e3"),
        ("True", "1"),
    ],
)
def test_integral_labels_by_string_rules(raw: str, label: str) -> None:
    assert normalised([raw]) == [label]


def test_an_integral_label_too_large_for_a_float_is_kept_not_a_crash() -> None:
    huge = "9" * 400
    assert normalised([huge + ".0", huge]) == [huge, huge]


def test_two_large_integral_classes_stay_two_classes() -> None:
    a, b = "12345678901234567891", "12345678901234567890"
    rows = [(f"text {i}", f"{a}.0") for i in range(10)] + [(f"other {i}", f"{b}.0") for i in range(10)]
    out = validate_examples(frame(rows), ValidationRules())
    assert out.class_counts == {b: 10, a: 10}
    assert out.quarantined.empty


# 5. Control characters at the ends of a text were stripped before the check but kept in the output.


@pytest.mark.parametrize("control", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f"])
@pytest.mark.parametrize("where", ["end", "start"])
def test_control_characters_at_the_ends_of_a_text_are_quarantined(control: str, where: str) -> None:
    text = f"help with my order{control}" if where == "end" else f"{control}help with my order"
    out = validate_examples(frame([*clean(), (text, "billing")]), ValidationRules())
    assert list(out.quarantined["rule"]) == ["text_printable"]
    assert (
        out.quarantined["reason"].iloc[0].startswith(f"text contains control character U+{ord(control):04X}")
    )
    assert out.quarantined["text"].iloc[0] == text
    assert not out.valid["text"].str.contains(control, regex=False).any()


def test_a_text_of_control_characters_only_is_quarantined() -> None:
    out = validate_examples(frame([*clean(), ("\x1c\x1f", "billing")]), ValidationRules())
    assert list(out.quarantined["rule"]) == ["text_printable"]
    assert out.quarantined["reason"].iloc[0] == "text contains control character U+001C at column 1"


def test_every_valid_text_is_free_of_control_characters_and_unchanged() -> None:
    texts = [" padded text ", "\ttabbed text\n", "\xa0nbsp text\u3000", "trailing cr\r\n", "inner\x0bvt"]
    rows = [*clean(), *((t, "billing") for t in texts)]
    out = validate_examples(frame(rows), ValidationRules())
    assert list(out.quarantined["text"]) == ["inner\x0bvt"]
    kept = out.valid["text"].tolist()
    assert all(t in kept for t in texts[:-1])  # ordinary whitespace is fine and the text is emitted as read
    assert not any(ch in "\x0b\x0c\x1c\x1d\x1e\x1f" for t in kept for ch in t)


def test_the_launchpad_refuses_a_label_map_that_would_rename_missing_labels():
    with pytest.raises(pydantic.ValidationError, match="missing-label token"):
        ValidationRules(label_map={"N/A": "billing"})
    assert ValidationRules(label_map={"pos": "positive"}).label_map == {"pos": "positive"}
