"""The serving encoder for a fine-tuned model directory, and an encoded batch through torch or ORT."""

from __future__ import annotations

import inspect

import numpy as np
import onnxruntime as ort
import torch
from ft_serving.encoding import TextEncoder
from ft_serving.spec import MODEL_INPUTS, MODEL_OUTPUT
from transformers import PreTrainedModel, PreTrainedTokenizerBase


def model_input_names(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> tuple[str, ...]:
    """token_type_ids only when both the tokenizer produces them and the model accepts them."""
    accepted = inspect.signature(model.forward).parameters
    return tuple(name for name in MODEL_INPUTS if name in tokenizer.model_input_names and name in accepted)


def text_encoder(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, max_length: int) -> TextEncoder:
    """The serving encoder (ft_serving.encoding) for a model directory that has no bundle yet."""
    return TextEncoder.build(
        tokenizer.backend_tokenizer,
        max_length=max_length,
        truncation_side=tokenizer.truncation_side,
        input_names=model_input_names(model, tokenizer),
        pad_token=tokenizer.pad_token,
        padding_side=tokenizer.padding_side,
    )


def torch_logits(model: PreTrainedModel, feeds: dict[str, np.ndarray]) -> np.ndarray:
    with torch.inference_mode():
        tensors = {name: torch.from_numpy(array) for name, array in feeds.items()}
        return model(**tensors).logits.float().numpy()


def ort_logits(session: ort.InferenceSession, feeds: dict[str, np.ndarray]) -> np.ndarray:
    return np.asarray(session.run([MODEL_OUTPUT], feeds)[0], dtype=np.float32)
