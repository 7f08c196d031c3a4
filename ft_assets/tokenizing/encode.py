"""Batched fast-tokenizer encoding of the training data, with exact truncation statistics.

Texts are cut by ``ft_serving.encoding.TextEncoder``, the same code that cuts them at serving time, so
the model is trained and evaluated on exactly the tokens ft-predict feeds it. The true length of a cut
text comes from the tokenizer's overflow pieces, which avoids a second encoding pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ft_serving.encoding import TextEncoder
from ft_serving.spec import MODEL_INPUTS
from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class EncodedTexts:
    columns: dict[str, list[list[int]]]
    full_lengths: np.ndarray


def text_encoder(tokenizer: PreTrainedTokenizerBase, max_length: int) -> TextEncoder:
    """The training data's encoder: the tokenizer's own inputs and truncation side, cut at max_length."""
    return TextEncoder.build(
        tokenizer.backend_tokenizer,
        max_length=max_length,
        truncation_side=tokenizer.truncation_side,
        input_names=[name for name in MODEL_INPUTS if name in tokenizer.model_input_names],
    )


def encode_texts(tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int) -> EncodedTexts:
    encoder = text_encoder(tokenizer, max_length)
    encodings = encoder.encode(texts, exact_lengths=True)
    lengths = np.fromiter((encoder.full_length(e) for e in encodings), dtype=np.int64, count=len(encodings))
    # Unpadded single sequences attend to every token, so the mask needs no per-encoding conversion.
    columns: dict[str, list[list[int]]] = {
        "input_ids": [e.ids for e in encodings],
        "attention_mask": [[1] * len(e.ids) for e in encodings],
    }
    if "token_type_ids" in encoder.input_names:
        columns["token_type_ids"] = [e.type_ids for e in encodings]
    return EncodedTexts(columns=columns, full_lengths=lengths)


def label_order(labels: list[str]) -> list[str]:
    """Numeric labels sort as numbers ("2" < "10"), anything else alphabetically."""
    unique = sorted(set(labels))
    if all(label.lstrip("-").isdigit() for label in unique):
        return sorted(unique, key=int)
    return unique


def label_difference(
    first: str, first_labels: Sequence[str], second: str, second_labels: Sequence[str]
) -> str:
    """Which labels only one side has, in a sentence: what an error about two label lists must say."""
    only_first = [label for label in first_labels if label not in set(second_labels)]
    only_second = [label for label in second_labels if label not in set(first_labels)]
    return f"only the {first}'s: {only_first or 'none'}; only the {second}'s: {only_second or 'none'}"
