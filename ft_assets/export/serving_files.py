"""The bundle's files beside its ONNX graphs: bundle.json, the tokenizer and the label map."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
from ft_serving.spec import MODEL_FILE, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, BundleSpec, write_spec
from transformers import AutoConfig, AutoTokenizer

from ft_assets.export.onnx_export import ExportError

# The two the bundle contract names (ft_serving.spec), plus the extra files HF tokenizers save beside them.
TOKENIZER_FILES = (TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, "special_tokens_map.json", "vocab.txt")


def write_serving_files(
    model_dir: Path,
    out: Path,
    *,
    model_version: str,
    data_version: str,
    base_model: str,
    max_length: int,
) -> BundleSpec:
    """Write bundle.json, labels.json (id -> label) and the tokenizer files into ``out``, beside model.onnx.

    ``max_length`` is the one the model was trained and evaluated with (tokenized_dataset's); labels come
    from the model's config and the graph inputs from the exported ``model.onnx``, so the spec describes
    exactly the files beside it.
    """
    model_dir, out = Path(model_dir), Path(out)
    config = AutoConfig.from_pretrained(str(model_dir), trust_remote_code=False)
    positions = getattr(config, "max_position_embeddings", None)
    if positions is not None and max_length > positions:
        raise ExportError(f"max_length {max_length} exceeds the model's {positions} position embeddings")
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), trust_remote_code=False)
    spec = BundleSpec(
        model_version=model_version,
        data_version=data_version,
        base_model=base_model,
        labels=tuple(config.id2label[i] for i in range(config.num_labels)),
        max_length=max_length,
        model_inputs=graph_inputs(out / MODEL_FILE),
        truncation_side=tokenizer.truncation_side,
    )
    for name in TOKENIZER_FILES:
        if (model_dir / name).is_file():
            shutil.copy(model_dir / name, out / name)
    labels = {str(i): label for i, label in enumerate(spec.labels)}
    (out / spec.files.labels).write_text(json.dumps(labels, indent=2, ensure_ascii=False))
    write_spec(out, spec)
    return spec


def graph_inputs(onnx_path: Path) -> tuple[str, ...]:
    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    initializers = {tensor.name for tensor in graph.initializer}
    return tuple(node.name for node in graph.input if node.name not in initializers)
