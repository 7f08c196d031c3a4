"""``bundle.json``: the one typed spec of a production bundle, and the only code that reads or writes it.

The exporter writes it; every reader (evaluation checks, the promotion gate, ``ft-predict``, ``ft-serve``,
the Dagster classifier resource, batch predictions) gets the bundle's file names, labels, token limit,
truncation side and graph inputs from here and from nowhere else. Torch-free: json and dataclasses only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, cast

SPEC_FILE = "bundle.json"
FORMAT_VERSION = 1
MODEL_FILE = "model.onnx"
INT8_MODEL_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
LABELS_FILE = "labels.json"
REPORT_FILE = "report.json"
# report.json's headline numbers (not the per-class tables): what GET /v1/model shows and what the
# registry log records for each promotion decision.
REPORT_METRICS = ("accuracy", "macro_f1", "macro_precision", "macro_recall", "n_test")
MODEL_CARD_FILE = "MODEL_CARD.md"
# Every input a BERT-like classifier graph may take, in feed order; a bundle declares the subset it uses.
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
REQUIRED_INPUTS = ("input_ids", "attention_mask")
# The graph's one output: logits of shape (batch, len(labels)), column i scoring labels[i].
MODEL_OUTPUT = "logits"
TruncationSide = Literal["right", "left"]
SIDES: tuple[TruncationSide, ...] = ("right", "left")


class BundleError(ValueError):
    """The bundle cannot serve predictions; the one-line message names the file and the problem."""


def is_plain_name(name: str) -> bool:
    """A file or folder name with no path in it: joined to a folder, it stays inside that folder."""
    return name not in {"", ".", ".."} and not any(char in name for char in "/\\\0")


@dataclass(frozen=True)
class BundleFiles:
    """File names inside the bundle folder, by role."""

    model: str = MODEL_FILE
    int8_model: str = INT8_MODEL_FILE
    tokenizer: str = TOKENIZER_FILE
    tokenizer_config: str = TOKENIZER_CONFIG_FILE
    labels: str = LABELS_FILE
    report: str = REPORT_FILE
    model_card: str = MODEL_CARD_FILE

    def __post_init__(self) -> None:
        for role, name in asdict(self).items():
            # Plain names only: a spec must not point a reader outside its own folder.
            if not isinstance(name, str) or not is_plain_name(name):
                raise BundleError(f"{SPEC_FILE}: files.{role} must be a plain file name, got {name!r}")


@dataclass(frozen=True)
class BundleSpec:
    """What a bundle holds and how its texts must be encoded to get the evaluated predictions.

    ``max_length`` is the token limit (special tokens included) the model was trained and evaluated
    with; texts are cut on ``truncation_side``. ``labels[i]`` is the label of logit column ``i``.
    """

    model_version: str
    data_version: str
    base_model: str
    labels: tuple[str, ...]
    max_length: int
    model_inputs: tuple[str, ...]
    truncation_side: TruncationSide = "right"
    files: BundleFiles = field(default_factory=BundleFiles)
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.format_version != FORMAT_VERSION:
            raise BundleError(
                f"{SPEC_FILE}: format_version {self.format_version!r} unsupported (want {FORMAT_VERSION})"
            )
        for name in ("model_version", "data_version", "base_model"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise BundleError(f"{SPEC_FILE}: {name} must be a non-empty string, got {value!r}")
        labels = self.labels
        if (
            len(labels) < 2
            or not all(isinstance(label, str) and label for label in labels)
            or len(set(labels)) != len(labels)
        ):
            raise BundleError(
                f"{SPEC_FILE}: labels must be two or more unique non-empty strings, got {labels!r}"
            )
        if isinstance(self.max_length, bool) or not isinstance(self.max_length, int) or self.max_length < 1:
            raise BundleError(f"{SPEC_FILE}: max_length must be a positive integer, got {self.max_length!r}")
        if self.truncation_side not in SIDES:
            raise BundleError(
                f"{SPEC_FILE}: truncation_side must be 'right' or 'left', got {self.truncation_side!r}"
            )
        inputs = self.model_inputs
        if (
            # Strings first: set() of a list or object element would raise TypeError, not BundleError.
            not all(isinstance(name, str) for name in inputs)
            or not set(REQUIRED_INPUTS) <= set(inputs)
            or not set(inputs) <= set(MODEL_INPUTS)
            or list(inputs) != [name for name in MODEL_INPUTS if name in inputs]
        ):
            raise BundleError(
                f"{SPEC_FILE}: model_inputs must be {list(REQUIRED_INPUTS)} (+ token_type_ids), in order, "
                f"got {list(inputs)!r}"
            )

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        return {**body, "labels": list(self.labels), "model_inputs": list(self.model_inputs)}

    @classmethod
    def from_json(cls, data: object) -> BundleSpec:
        """Strict: unknown or missing keys and wrong types are a BundleError, never a KeyError/TypeError."""
        if not isinstance(data, Mapping):
            raise BundleError(f"{SPEC_FILE} must hold a JSON object, got {type(data).__name__}")
        body = dict(data)
        _check_keys(body, cls, SPEC_FILE)
        files = body.pop("files", {})
        if not isinstance(files, Mapping):
            raise BundleError(f"{SPEC_FILE}: files must be an object of role -> file name")
        _check_keys(dict(files), BundleFiles, f"{SPEC_FILE} files")
        for name in ("labels", "model_inputs"):
            if not isinstance(body[name], list):
                raise BundleError(f"{SPEC_FILE}: {name} must be a list, got {body[name]!r}")
            body[name] = tuple(body[name])
        return cls(**body, files=BundleFiles(**files))


def read_spec(directory: Path) -> BundleSpec:
    path = Path(directory) / SPEC_FILE
    if not path.is_file():
        raise BundleError(f"bundle {directory} is missing {SPEC_FILE}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{SPEC_FILE} is not valid JSON: {error}") from None
    return BundleSpec.from_json(data)


def write_spec(directory: Path, spec: BundleSpec) -> Path:
    """Written into a bundle folder that is still being staged; publishing it is the caller's atomic step."""
    path = Path(directory) / SPEC_FILE
    path.write_text(json.dumps(spec.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _check_keys(body: dict[str, Any], kind: type, where: str) -> None:
    known = {f.name for f in fields(cast(Any, kind))}
    required = {
        f.name for f in fields(cast(Any, kind)) if f.default is MISSING and f.default_factory is MISSING
    }
    unknown = sorted(set(body) - known)
    if unknown:
        raise BundleError(f"{where}: unknown field(s) {unknown}")
    missing = sorted(required - set(body))
    if missing:
        raise BundleError(f"{where}: missing field(s) {missing}")
