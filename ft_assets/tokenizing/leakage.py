"""Held-out rows the model reads exactly as a train row: what the text-hash split cannot see.

Splits are assigned by a hash of the text's key (NFKC, casefolded, invisible characters removed,
space-collapsed), so a text and its copy always share a split. The tokenizer normalises further (accents
stripped, punctuation split off) and truncates at max_length, so two texts that differ only there, say
"Great!" and "gréat !", reach the model as the same token ids and can sit in train and test: the test then
scores memory, not generalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from datasets import DatasetDict

from ft_assets.splitting.hashing import SPLITS

EXAMPLES = 5  # held-out texts shown per split, enough to recognise the pattern


@dataclass(frozen=True)
class Leakage:
    """Per held-out split: how many rows have a train row's exact token ids, and a few of their texts."""

    rows: dict[str, int]
    examples: dict[str, list[str]]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def find_leakage(dataset: DatasetDict) -> Leakage:
    train = {tuple(ids) for ids in dataset["train"]["input_ids"]}
    rows: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    for split in SPLITS:
        if split == "train":
            continue
        part = dataset[split]
        hits = [i for i, ids in enumerate(part["input_ids"]) if tuple(ids) in train]
        rows[split] = len(hits)
        examples[split] = [part[i]["text"] for i in hits[:EXAMPLES]]
    return Leakage(rows, examples)
