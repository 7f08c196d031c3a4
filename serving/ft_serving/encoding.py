"""Texts to model inputs: the one truncation and padding implementation.

The training data (``tokenized_dataset``), the ONNX export and its parity gate, and serving all encode
through ``TextEncoder``, so a text longer than ``max_length`` is cut the same way everywhere: by the fast
tokenizer's own truncation, which keeps the template's special tokens ([CLS] ... [SEP]).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tokenizers import Encoding, Tokenizer

from ft_serving.spec import SIDES

# Characters kept per token of max_length before a long text is tokenized: words are a few characters
# a token, so the kept part still overflows in all but odd texts, and megabyte inputs stay cheap.
_CHARS_PER_TOKEN = 32
_CUT_CHARS = " \t\n\r"
_CUT = re.compile(f"[{_CUT_CHARS}]")


@dataclass(frozen=True)
class TextEncoder:
    """A fast tokenizer set to cut every text to ``max_length`` tokens, special tokens included."""

    tokenizer: Tokenizer
    max_length: int
    truncation_side: str
    input_names: tuple[str, ...]
    pad_id: int | None
    padding_side: str

    @classmethod
    def build(
        cls,
        tokenizer: Tokenizer,
        *,
        max_length: int,
        truncation_side: str,
        input_names: Sequence[str],
        pad_token: str | None = None,
        padding_side: str = "right",
    ) -> TextEncoder:
        """A configured copy of ``tokenizer``; a ValueError names the setting that cannot work."""
        if truncation_side not in SIDES:
            raise ValueError(f"truncation_side must be 'right' or 'left', got {truncation_side!r}")
        if padding_side not in SIDES:
            raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
        if max_length <= tokenizer.num_special_tokens_to_add(False):
            raise ValueError(f"max_length={max_length} leaves no room for text after the special tokens")
        pad_id = None
        if pad_token is not None:
            pad_id = tokenizer.token_to_id(pad_token)
            if pad_id is None:
                raise ValueError(f"the padding token {pad_token!r} is not in the vocabulary")
        configured = Tokenizer.from_str(tokenizer.to_str())
        # tokenizer.json often carries a fixed training-time padding; batches are padded to their longest.
        configured.no_padding()
        configured.enable_truncation(max_length=max_length, stride=0, direction=truncation_side)
        return cls(configured, max_length, truncation_side, tuple(input_names), pad_id, padding_side)

    @property
    def special_tokens(self) -> int:
        return self.tokenizer.num_special_tokens_to_add(False)

    def encode(self, texts: Sequence[str], *, exact_lengths: bool = False) -> list[Encoding]:
        """Truncated encodings; ``encoding.overflowing`` is non-empty exactly when a text was cut.

        Unless ``exact_lengths`` is asked for (``full_length`` needs the whole text), a very long text
        is first cut at a whitespace to the side the truncation keeps. That gives the same tokens as
        the whole text whenever the kept part still overflows (checked); when it does not (long runs of
        spaces, giant words), the whole text is encoded instead.
        """
        budget = len(max(texts, key=len, default="")) if exact_lengths else self.max_length * _CHARS_PER_TOKEN
        prepared = [self._keep_side(text, budget) if len(text) > budget else text for text in texts]
        encodings = self.tokenizer.encode_batch(prepared)
        for i, (text, kept) in enumerate(zip(texts, prepared, strict=True)):
            if kept is not text and not encodings[i].overflowing:
                encodings[i] = self.tokenizer.encode(text)
        return encodings

    def full_length(self, encoding: Encoding) -> int:
        """Tokens the text had before truncation (exact for encodings from ``encode(exact_lengths=True)``)."""
        pieces = [encoding, *encoding.overflowing]
        return sum(len(piece.ids) - self.special_tokens for piece in pieces) + self.special_tokens

    def feeds(self, encodings: Sequence[Encoding]) -> dict[str, np.ndarray]:
        """The graph's inputs for a batch, padded to its longest text on ``padding_side``."""
        if self.pad_id is None:
            raise ValueError("this encoder was built without a padding token")
        width = max((len(e.ids) for e in encodings), default=0)
        pad_values = {"input_ids": self.pad_id, "attention_mask": 0, "token_type_ids": 0}
        feeds = {
            name: np.full((len(encodings), width), pad_values[name], np.int64) for name in self.input_names
        }
        for row, encoding in enumerate(encodings):
            columns = {
                "input_ids": encoding.ids,
                "attention_mask": encoding.attention_mask,
                "token_type_ids": encoding.type_ids,
            }
            span = (
                slice(0, len(encoding.ids))
                if self.padding_side == "right"
                else slice(width - len(encoding.ids), width)
            )
            for name in self.input_names:
                feeds[name][row, span] = columns[name]
        return feeds

    def _keep_side(self, text: str, budget: int) -> str:
        # Cut at an ASCII whitespace, which every pre-tokenizer splits at, so the words kept tokenize as
        # in the whole text. The left cut keeps the space: "▁word" / "Ġword" tokenizers need it.
        if self.truncation_side == "right":
            found = _CUT.search(text, budget)
            return text[: found.start()] if found else text
        start = max(text.rfind(char, 0, len(text) - budget) for char in _CUT_CHARS)
        return text[start:] if start >= 0 else text
