"""The thresholds the validation suite enforces, and the ids of its rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Rule ids, in the order a row is checked: a row is quarantined under the first rule it fails.
INGEST_OK: Final = "ingest_ok"
TEXT_NOT_BLANK: Final = "text_not_blank"
TEXT_LENGTH: Final = "text_length"
LABEL_ALLOWED: Final = "label_allowed"
LABEL_CONFLICT: Final = "label_conflict"
ROW_RULES: Final = (INGEST_OK, TEXT_NOT_BLANK, TEXT_LENGTH, LABEL_ALLOWED, LABEL_CONFLICT)

# Dataset-level: reported, never a reason to quarantine a row.
CLASS_MINIMUM: Final = "class_minimum"


@dataclass(frozen=True)
class ValidationRules:
    """What a labeled example must satisfy to be used for training.

    `allowed_labels=None` infers the label set from the data: every label seen at least
    `min_examples_per_class` times among rows whose text passes the text rules.
    """

    min_text_chars: int = 1
    max_text_chars: int = 5000
    allowed_labels: tuple[str, ...] | None = None
    min_examples_per_class: int = 10

    def __post_init__(self) -> None:
        if self.min_text_chars < 0:
            raise ValueError(f"min_text_chars must be >= 0, got {self.min_text_chars}")
        if self.max_text_chars < self.min_text_chars:
            raise ValueError(
                f"max_text_chars ({self.max_text_chars}) must be >= min_text_chars ({self.min_text_chars})"
            )
        if self.min_examples_per_class < 1:
            raise ValueError(f"min_examples_per_class must be >= 1, got {self.min_examples_per_class}")
        if self.allowed_labels is not None:
            # Labels are compared as strings (integer labels from a file arrive as "0", "1").
            labels = tuple(str(label) for label in self.allowed_labels)
            if not labels:
                raise ValueError("allowed_labels must not be empty; use None to infer it from the data")
            if len(set(labels)) != len(labels):
                raise ValueError(f"allowed_labels has duplicates: {list(labels)}")
            object.__setattr__(self, "allowed_labels", labels)
