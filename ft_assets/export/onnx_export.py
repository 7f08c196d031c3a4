"""fp32 ONNX export of a fine-tuned sequence classifier, verified against torch before it is kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from ft_serving.bundle import open_session
from ft_serving.encoding import TextEncoder
from ft_serving.spec import MODEL_OUTPUT
from onnx.external_data_helper import uses_external_data
from transformers import PreTrainedModel

from ft_assets.export.loading import ort_logits, text_encoder, torch_logits
from ft_assets.export.parity import PARITY_TOLERANCE
from ft_assets.training.model import load_finetuned

# Two texts of different lengths: batch 2 and a padded sequence longer than the batch, so
# torch.export cannot specialise either axis to the example's value.
_EXAMPLE_TEXTS = ["a short example", "a somewhat longer example sentence, used only to trace the export"]
_VERIFY_TEXTS = ["hi", "a medium length text about an order", "a much longer text " * 12]


class ExportError(RuntimeError):
    """The exported graph is unusable (external data, wrong outputs or logits off from torch)."""


class _LogitsOnly(torch.nn.Module):
    """Exposes only the logits so the graph has one output whatever the model config returns."""

    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits


def export_onnx(model_dir: Path, out_path: Path) -> Path:
    """Export ``model_dir`` to a single self-contained ``out_path`` with dynamic batch and sequence.

    Uses the dynamo exporter: it keeps sequence length symbolic through the attention-mask code,
    where the TorchScript tracer bakes the example's Python branches into the graph.
    """
    model, tokenizer = load_finetuned(Path(model_dir))
    # The graph accepts any length the model has position embeddings for; the length texts are cut
    # to is the bundle's max_length (bundle.json), checked against this limit when the bundle is written.
    positions = int(getattr(model.config, "max_position_embeddings", 512))
    encoder = text_encoder(model, tokenizer, positions)
    names = encoder.input_names
    example = encoder.feeds(encoder.encode(_EXAMPLE_TEXTS))
    batch = torch.export.Dim("batch")
    sequence = torch.export.Dim("sequence", max=positions)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # Written in place: the caller's folder is a staging folder of ArtifactStore.write_dir, the one
    # atomic-write boundary, which publishes nothing when this raises.
    program = torch.onnx.export(
        _LogitsOnly(model).eval(),
        kwargs={name: torch.from_numpy(example[name]) for name in names},
        dynamo=True,
        dynamic_shapes={name: {0: batch, 1: sequence} for name in names},
        output_names=[MODEL_OUTPUT],
        external_data=False,
        verbose=False,
    )
    if program is None:
        raise ExportError("torch.onnx.export returned no program")
    program.save(str(out_path), external_data=False)
    _finalise(out_path)
    _verify(model, encoder, out_path)
    return out_path


def _finalise(path: Path) -> None:
    proto = onnx.load(str(path), load_external_data=False)
    if any(uses_external_data(tensor) for tensor in proto.graph.initializer):
        raise ExportError(f"{path.name}: weights were written as external data; expected one file")
    outputs = [output.name for output in proto.graph.output]
    if outputs != [MODEL_OUTPUT]:
        raise ExportError(f"{path.name}: expected a single {MODEL_OUTPUT!r} output, got {outputs}")
    onnx.checker.check_model(proto)
    onnx.save_model(proto, str(path))


def _verify(model: PreTrainedModel, encoder: TextEncoder, path: Path) -> None:
    """Batch 3 and batch 1 at other sequence lengths than the example prove both axes are dynamic."""
    session = open_session(path)
    for texts in (_VERIFY_TEXTS, _VERIFY_TEXTS[-1:]):
        feeds = encoder.feeds(encoder.encode(texts))
        diff = float(np.max(np.abs(torch_logits(model, feeds) - ort_logits(session, feeds))))
        if not diff <= PARITY_TOLERANCE:
            raise ExportError(f"ONNX logits differ from torch by {diff:.3g} on a batch of {len(texts)}")
