"""Invisible characters (zero-width space, soft hyphen, byte-order mark, bidi marks, variation selectors)
render as nothing and reach a BERT tokenizer as nothing: a text made of them is blank, and two texts that
differ only by them are one text, for duplicates, label conflicts and the split."""

from __future__ import annotations

import pytest

from ft_assets.splitting.hashing import unit_interval
from ft_assets.validation.normalise import text_key
from tests.ingest.test_hostile_data import at, clean_lines, ingest

VARIANTS = (
    "great\u200b product",  # zero-width space
    "great pro\u00adduct",  # soft hyphen
    "\ufeffgreat product",  # a byte-order mark inside a file, not at its start
    "great product\u200e",  # left-to-right mark
    "great\u2060 product",  # word joiner
)


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_text_and_its_copy_with_invisible_characters_share_a_key_and_a_split(variant):
    assert text_key(variant) == text_key("great product")
    assert unit_interval(variant, "s") == unit_interval("great product", "s")


def test_visible_non_ascii_text_keeps_its_key():
    # The keys of texts without invisible characters must not move: splits are stable.
    assert text_key("Gréat  PRODUCT ❤") == "gréat product ❤"
    assert text_key("ｆｕｌｌ width") == "full width"


def test_a_text_of_invisible_characters_only_is_blank(tmp_path):
    lines = [*clean_lines(), "\u200b\u200b,positive", "\ufeff \u2060,negative"]
    _, out = ingest(tmp_path / "raw", {"a.csv": "text,label\n" + "\n".join(lines) + "\n"})
    for line, codes in ((42, "U+200B"), (43, "U+FEFF, U+2060")):
        rule, reason = at(out, "a.csv", line)
        assert rule == "text_not_blank"
        assert reason == f"text is blank: only invisible characters ({codes})"


def test_copies_that_differ_by_invisible_characters_conflict_and_repeat(tmp_path):
    lines = [*clean_lines(), "great product,positive", "great\u200b product,negative"]
    lines += ["late parcel,negative", "late par\u00adcel,negative"]
    _, out = ingest(tmp_path / "raw", {"a.csv": "text,label\n" + "\n".join(lines) + "\n"})
    rule, reason = at(out, "a.csv", 43)
    assert rule == "label_conflict" and "'positive' at a.csv:42" in reason
    repeats = next(r for r in out.reports if r.name == "text_unique")
    assert repeats.unexpected == 2 and any("a.csv:45" in d for d in repeats.details)


def test_an_invisible_prefix_does_not_hide_a_formula(tmp_path):
    lines = [*clean_lines(), '\u200b=HYPERLINK("http://x"),positive']
    _, out = ingest(tmp_path / "raw", {"a.csv": "text,label\n" + "\n".join(lines) + "\n"})
    assert at(out, "a.csv", 42)[0] == "text_not_formula"
