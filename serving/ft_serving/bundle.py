"""Loading and validating a production bundle: files, label map, ONNX graph and tokenizer.

Every problem surfaces as one ``BundleError`` line naming the file at fault, so a broken bundle
is diagnosed from the message alone. Imports onnxruntime and tokenizers only, never torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

MODEL_FILE = "model.onnx"
INT8_MODEL_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
LABELS_FILE = "labels.json"
REPORT_FILE = "report.json"
MODEL_CARD_FILE = "MODEL_CARD.md"
# Written by the exporter: the most positions the model has embeddings for.
MAX_LENGTH_METADATA_KEY = "max_sequence_length"
GRAPH_INPUTS = frozenset({"input_ids", "attention_mask", "token_type_ids"})
# Tokenizers report a huge sentinel when no limit is configured.
_UNSET_MODEL_MAX_LENGTH = 1_000_000


class BundleError(ValueError):
    """The bundle cannot serve predictions; the message names the file and the problem."""


@dataclass(frozen=True)
class LoadedBundle:
    directory: Path
    session: ort.InferenceSession
    tokenizer: Tokenizer
    labels: tuple[str, ...]
    input_names: tuple[str, ...]
    max_length: int
    model_version: str | None


def load_bundle(
    bundle_dir: Path | str, *, int8: bool = False, threads: int | None = None, max_length: int = 256
) -> LoadedBundle:
    """Open ``model.onnx`` (or ``model.int8.onnx``) with its tokenizer and labels, checked together."""
    directory = Path(bundle_dir)
    if not directory.is_dir():
        raise BundleError(f"bundle directory not found: {directory}")
    model_name = INT8_MODEL_FILE if int8 else MODEL_FILE
    missing = [name for name in (model_name, TOKENIZER_FILE, LABELS_FILE) if not (directory / name).is_file()]
    if missing:
        raise BundleError(f"bundle {directory} is missing {', '.join(missing)}")
    labels = read_labels(directory / LABELS_FILE)
    session = _open_session(directory / model_name, threads)
    input_names = tuple(node.name for node in session.get_inputs())
    if not {"input_ids", "attention_mask"} <= set(input_names) <= GRAPH_INPUTS:
        raise BundleError(f"{model_name} has inputs {list(input_names)}; expected input_ids, attention_mask")
    config = (
        _read_json(directory / TOKENIZER_CONFIG_FILE) if (directory / TOKENIZER_CONFIG_FILE).is_file() else {}
    )
    limit = _effective_max_length(max_length, session, config)
    tokenizer = _load_tokenizer(directory / TOKENIZER_FILE, config, limit)
    _check_output_size(session, tokenizer, input_names, model_name, len(labels))
    report = _read_json(directory / REPORT_FILE) if (directory / REPORT_FILE).is_file() else {}
    version = report.get("model_version")
    return LoadedBundle(
        directory=directory,
        session=session,
        tokenizer=tokenizer,
        labels=labels,
        input_names=input_names,
        max_length=limit,
        model_version=None if version is None else str(version),
    )


def read_labels(path: Path) -> tuple[str, ...]:
    """labels.json: ``{"0": "billing", "1": "shipping", ...}`` with ids exactly 0..n-1."""
    raw = _read_json(path)
    if not raw:
        raise BundleError(f"{path.name} must be a non-empty JSON object of id -> label")
    expected = [str(i) for i in range(len(raw))]
    if set(raw) != set(expected):
        raise BundleError(f"{path.name} ids must be exactly 0..{len(raw) - 1}, got {sorted(raw)}")
    labels = tuple(raw[key] for key in expected)
    if not all(isinstance(label, str) and label for label in labels) or len(set(labels)) != len(labels):
        raise BundleError(f"{path.name} labels must be unique non-empty strings, got {list(labels)}")
    return labels


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{path.name} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise BundleError(f"{path.name} must hold a JSON object, got {type(data).__name__}")
    return data


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _open_session(path: Path, threads: int | None) -> ort.InferenceSession:
    options = ort.SessionOptions()
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as error:  # ORT raises several unrelated types for unreadable graphs
        raise BundleError(f"{path.name} is not a loadable ONNX model: {_first_line(error)}") from None


def _effective_max_length(requested: int, session: ort.InferenceSession, config: dict[str, Any]) -> int:
    """Never feed more positions than the model has: ORT fails on out-of-range position ids."""
    limits = [requested]
    exported = session.get_modelmeta().custom_metadata_map.get(MAX_LENGTH_METADATA_KEY)
    if exported and exported.isdigit():
        limits.append(int(exported))
    configured = config.get("model_max_length")
    if isinstance(configured, int) and 0 < configured < _UNSET_MODEL_MAX_LENGTH:
        limits.append(configured)
    return min(limits)


def _load_tokenizer(path: Path, config: dict[str, Any], max_length: int) -> Tokenizer:
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as error:  # tokenizers raises a bare Exception for malformed files
        raise BundleError(f"{path.name} failed to load: {_first_line(error)}") from None
    if max_length <= tokenizer.num_special_tokens_to_add(False):
        raise ValueError(f"max_length={max_length} leaves no room for text after the special tokens")
    # tokenizer.json often carries the training-time fixed padding; serving pads per batch instead.
    padding = tokenizer.padding or {}
    pad_token = padding.get("pad_token") or _token_text(config.get("pad_token")) or "[PAD]"
    pad_id = tokenizer.token_to_id(pad_token)
    if pad_id is None:
        raise BundleError(f"{path.name} has no padding token ({pad_token!r} is not in its vocabulary)")
    tokenizer.no_padding()
    tokenizer.enable_padding(
        direction=config.get("padding_side", "right"),
        pad_id=pad_id,
        pad_type_id=int(padding.get("pad_type_id", 0)),
        pad_token=pad_token,
    )
    tokenizer.enable_truncation(max_length=max_length, direction=config.get("truncation_side", "right"))
    return tokenizer


def _token_text(token: object) -> str | None:
    """tokenizer_config.json stores special tokens as a string or as an AddedToken dict."""
    if isinstance(token, dict):
        token = token.get("content")
    return token if isinstance(token, str) and token else None


def _check_output_size(
    session: ort.InferenceSession,
    tokenizer: Tokenizer,
    input_names: tuple[str, ...],
    name: str,
    n_labels: int,
) -> None:
    """A probe run proves the graph executes and tells the logits width even when it is symbolic."""
    encoding = tokenizer.encode("")
    arrays = {
        "input_ids": encoding.ids,
        "attention_mask": encoding.attention_mask,
        "token_type_ids": encoding.type_ids,
    }
    feeds = {key: np.asarray([arrays[key]], dtype=np.int64) for key in input_names}
    try:
        logits = session.run(["logits"], feeds)[0]
    except Exception as error:
        raise BundleError(f"{name} failed a probe inference: {_first_line(error)}") from None
    if logits.ndim != 2 or logits.shape[1] != n_labels:
        raise BundleError(
            f"{LABELS_FILE} has {n_labels} labels but {name} outputs logits of shape {logits.shape}"
        )
