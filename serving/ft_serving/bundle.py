"""Loading a production bundle: bundle.json, label map, ONNX graph and tokenizer, checked together.

Every value that decides a prediction (labels, max_length, truncation side, graph inputs) comes from
``bundle.json`` (``ft_serving.spec``); the other files must agree with it. Every problem surfaces as one
``BundleError`` line naming the file at fault. Imports onnxruntime and tokenizers only, never torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from ft_serving.encoding import TextEncoder
from ft_serving.spec import (
    INT8_MODEL_FILE,
    LABELS_FILE,
    MODEL_CARD_FILE,
    MODEL_FILE,
    MODEL_OUTPUT,
    REPORT_FILE,
    SPEC_FILE,
    TOKENIZER_CONFIG_FILE,
    TOKENIZER_FILE,
    BundleError,
    BundleSpec,
    read_spec,
)

__all__ = [
    "INT8_MODEL_FILE",
    "LABELS_FILE",
    "MODEL_CARD_FILE",
    "MODEL_FILE",
    "REPORT_FILE",
    "SPEC_FILE",
    "TOKENIZER_CONFIG_FILE",
    "TOKENIZER_FILE",
    "BundleError",
    "LoadedBundle",
    "load_bundle",
    "open_session",
    "read_labels",
]


@dataclass(frozen=True)
class LoadedBundle:
    directory: Path
    spec: BundleSpec
    session: ort.InferenceSession
    encoder: TextEncoder

    @property
    def labels(self) -> tuple[str, ...]:
        return self.spec.labels

    @property
    def max_length(self) -> int:
        return self.spec.max_length

    @property
    def model_version(self) -> str:
        return self.spec.model_version


def load_bundle(bundle_dir: Path | str, *, int8: bool = False, threads: int | None = None) -> LoadedBundle:
    """Open ``model.onnx`` (or ``model.int8.onnx``) with its tokenizer, as ``bundle.json`` describes them."""
    directory = Path(bundle_dir)
    if not directory.is_dir():
        raise BundleError(f"bundle directory not found: {directory}")
    spec = read_spec(directory)
    files = spec.files
    model_name = files.int8_model if int8 else files.model
    required = (model_name, files.tokenizer, files.labels)
    missing = [name for name in required if not (directory / name).is_file()]
    if missing:
        raise BundleError(f"bundle {directory} is missing {', '.join(missing)}")
    labels = read_labels(directory / files.labels)
    if labels != spec.labels:
        raise BundleError(f"{files.labels} lists {list(labels)} but {SPEC_FILE} lists {list(spec.labels)}")
    report_path = directory / files.report
    if report_path.is_file():
        _check_report(_read_json(report_path), spec)
    session = open_session(directory / model_name, threads)
    graph_inputs = [node.name for node in session.get_inputs()]
    if sorted(graph_inputs) != sorted(spec.model_inputs):
        raise BundleError(
            f"{model_name} takes inputs {graph_inputs} but {SPEC_FILE} lists {list(spec.model_inputs)}"
        )
    encoder = _encoder(directory, spec)
    _check_output_size(session, encoder, model_name, files.labels, len(labels))
    return LoadedBundle(directory=directory, spec=spec, session=session, encoder=encoder)


def open_session(path: Path, threads: int | None = None) -> ort.InferenceSession:
    """The one way an ONNX graph is opened, for serving, the parity gate and latency measurements."""
    options = ort.SessionOptions()
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        options.intra_op_num_threads = threads
        # One graph branch at a time: inter-op parallelism only adds contention for these linear graphs.
        options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as error:  # ORT raises several unrelated types for unreadable graphs
        raise BundleError(f"{path.name} is not a loadable ONNX model: {_first_line(error)}") from None


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


def _check_report(report: dict[str, Any], spec: BundleSpec) -> None:
    """report.json must be the evaluation of this model, made with texts cut as this bundle cuts them."""
    evaluated = report.get("model_version", spec.model_version)
    if evaluated != spec.model_version:
        raise BundleError(
            f"{spec.files.report} is the evaluation of model {evaluated}, but {SPEC_FILE} is model "
            f"{spec.model_version}"
        )
    length = report.get("max_length", spec.max_length)
    if length != spec.max_length:
        raise BundleError(
            f"{spec.files.report} evaluated texts cut at {length} tokens, but {SPEC_FILE} serves "
            f"max_length {spec.max_length}"
        )


def _encoder(directory: Path, spec: BundleSpec) -> TextEncoder:
    """The tokenizer set up from bundle.json; tokenizer_config.json adds only the padding token and side."""
    name = spec.files.tokenizer_config
    config = _read_json(directory / name) if (directory / name).is_file() else {}
    _check_tokenizer_config(config, spec)
    try:
        tokenizer = Tokenizer.from_file(str(directory / spec.files.tokenizer))
    except Exception as error:  # tokenizers raises a bare Exception for malformed files
        raise BundleError(f"{spec.files.tokenizer} failed to load: {_first_line(error)}") from None
    padding = tokenizer.padding or {}
    pad_token = padding.get("pad_token") or _token_text(config.get("pad_token")) or "[PAD]"
    try:
        return TextEncoder.build(
            tokenizer,
            max_length=spec.max_length,
            truncation_side=spec.truncation_side,
            input_names=spec.model_inputs,
            pad_token=pad_token,
            padding_side=config.get("padding_side", "right"),
        )
    except ValueError as error:
        raise BundleError(f"{spec.files.tokenizer} cannot encode as {SPEC_FILE} asks: {error}") from None


def _check_tokenizer_config(config: dict[str, Any], spec: BundleSpec) -> None:
    name = spec.files.tokenizer_config
    side = config.get("padding_side", "right")
    if side not in ("right", "left"):
        raise BundleError(f"{name}: padding_side must be 'right' or 'left', got {side!r}")
    truncation = config.get("truncation_side", spec.truncation_side)
    if truncation != spec.truncation_side:
        raise BundleError(
            f"{name}: truncation_side {truncation!r} contradicts {SPEC_FILE} truncation_side "
            f"{spec.truncation_side!r}"
        )
    # Tokenizers without a limit store a huge number here, which passes the comparison below.
    limit = config.get("model_max_length", spec.max_length)
    if isinstance(limit, bool) or not isinstance(limit, int | float):
        raise BundleError(f"{name}: model_max_length must be a number, got {limit!r}")
    if limit < spec.max_length:
        raise BundleError(
            f"{name}: model_max_length {limit} is below the max_length {spec.max_length} of {SPEC_FILE}"
        )


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


def _token_text(token: object) -> str | None:
    """tokenizer_config.json stores special tokens as a string or as an AddedToken dict."""
    if isinstance(token, dict):
        token = token.get("content")
    return token if isinstance(token, str) and token else None


def _check_output_size(
    session: ort.InferenceSession, encoder: TextEncoder, model_name: str, labels_name: str, n_labels: int
) -> None:
    """A probe run proves the graph executes, at max_length too, and tells the logits width."""
    probe = encoder.encode(["", "a " * encoder.max_length])
    try:
        logits = session.run([MODEL_OUTPUT], encoder.feeds(probe))[0]
    except Exception as error:
        raise BundleError(
            f"{model_name} failed a probe inference at {SPEC_FILE} max_length {encoder.max_length}: "
            f"{_first_line(error)}"
        ) from None
    if np.ndim(logits) != 2 or logits.shape[1] != n_labels:
        raise BundleError(
            f"{labels_name} has {n_labels} labels but {model_name} outputs logits of shape {logits.shape}"
        )
