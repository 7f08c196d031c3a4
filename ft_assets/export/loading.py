"""Loading a fine-tuned model directory and running a tokenized batch through torch or ORT."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def load_finetuned(model_dir: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The classifier in eval mode and its tokenizer; safetensors only, no remote code."""
    model = AutoModelForSequenceClassification.from_pretrained(
        str(model_dir), use_safetensors=True, trust_remote_code=False
    )
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), trust_remote_code=False)
    return model, tokenizer


def ort_session(onnx_path: Path, threads: int | None = None) -> ort.InferenceSession:
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        # One graph branch at a time: inter-op parallelism only adds contention for these linear graphs.
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"])


def encode(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int
) -> dict[str, np.ndarray]:
    """Pad to the longest text of the batch, as serving does, so both runtimes see identical ids."""
    batch = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="np")
    return {name: np.asarray(batch[name], dtype=np.int64) for name in MODEL_INPUTS if name in batch}


def torch_logits(model: PreTrainedModel, encoded: dict[str, np.ndarray]) -> np.ndarray:
    with torch.inference_mode():
        tensors = {name: torch.from_numpy(array) for name, array in encoded.items()}
        return model(**tensors).logits.float().numpy()


def ort_logits(session: ort.InferenceSession, encoded: dict[str, np.ndarray]) -> np.ndarray:
    # Feed only what the graph declares: a model exported without token_type_ids rejects extra inputs.
    feeds = {node.name: encoded[node.name] for node in session.get_inputs()}
    return np.asarray(session.run(["logits"], feeds)[0], dtype=np.float32)
