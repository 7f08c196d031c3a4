"""Batched fast-tokenizer encoding with exact truncation statistics.

The texts are encoded once without truncation (so true lengths are known) and then cut to max_length
keeping the template's leading and trailing special tokens, which is what `truncation=True` does for
single sequences; that avoids a second encoding pass just to measure lengths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from datasets import DatasetDict
from tokenizers import Encoding, Tokenizer


@dataclass(frozen=True)
class EncodedTexts:
    columns: dict[str, list[list[int]]]
    full_lengths: np.ndarray

    def truncated_mask(self, max_length: int) -> np.ndarray:
        return self.full_lengths > max_length


def _cut(values: list[int], special: list[int], max_length: int) -> list[int]:
    if len(values) <= max_length:
        return values
    # Leading specials survive the slice; trailing ones ([SEP], </s>) are re-appended.
    tail = next((i for i, s in enumerate(reversed(special)) if not s), 0)
    return values[: max_length - tail] + (values[-tail:] if tail else [])


def encode_texts(
    tokenizer: Tokenizer, texts: list[str], max_length: int, with_token_types: bool
) -> EncodedTexts:
    if max_length < 8:
        raise ValueError(f"max_length={max_length} is too small to hold special tokens and text")
    plain = Tokenizer.from_str(tokenizer.to_str())
    plain.no_truncation()
    plain.no_padding()
    encodings: list[Encoding] = plain.encode_batch(texts)
    ids = [enc.ids for enc in encodings]
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    too_long = np.flatnonzero(lengths > max_length)
    for i in too_long:
        ids[i] = _cut(ids[i], encodings[i].special_tokens_mask, max_length)
    # Unpadded single sequences attend to every token, so the mask needs no per-encoding conversion.
    columns: dict[str, list[list[int]]] = {
        "input_ids": ids,
        "attention_mask": [[1] * len(row) for row in ids],
    }
    if with_token_types:
        types = [enc.type_ids for enc in encodings]
        for i in too_long:
            types[i] = _cut(types[i], encodings[i].special_tokens_mask, max_length)
        columns["token_type_ids"] = types
    return EncodedTexts(columns=columns, full_lengths=lengths)


def label_order(labels: list[str]) -> list[str]:
    """Numeric labels sort as numbers ("2" < "10"), anything else alphabetically."""
    unique = sorted(set(labels))
    if all(label.lstrip("-").isdigit() for label in unique):
        return sorted(unique, key=int)
    return unique


def shorten(dataset: DatasetDict, max_length: int) -> DatasetDict:
    """Cut already-tokenized rows to max_length, keeping the final special token ([SEP], </s>).

    Lets training use a shorter max_length than tokenized_dataset was built with, without re-tokenizing.
    """

    def cut(batch: dict[str, list[list[int]]]) -> dict[str, list[list[int]]]:
        out = {}
        for name in ("input_ids", "attention_mask", "token_type_ids"):
            if name in batch:
                out[name] = [
                    row if len(row) <= max_length else row[: max_length - 1] + row[-1:] for row in batch[name]
                ]
        out["length"] = [len(row) for row in out["input_ids"]]
        return out

    return dataset.map(cut, batched=True, desc=None)
