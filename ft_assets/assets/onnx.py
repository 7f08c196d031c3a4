"""onnx_model: fp32 ONNX export behind a parity gate, an INT8 variant, and measured latencies."""

from functools import partial
from pathlib import PurePosixPath
from typing import Any

import dagster as dg
import torch
from datasets import load_from_disk
from ft_serving.classifier import OnnxClassifier
from ft_serving.spec import INT8_MODEL_FILE, MODEL_FILE, SPEC_FILE
from pydantic import Field

from ft_assets.assets.evaluation import scorable_labels
from ft_assets.assets.metadata import md_table
from ft_assets.evaluation.trained_on import dataset_path, trained_splits
from ft_assets.export import (
    PARITY_TOLERANCE,
    check_parity,
    export_onnx,
    measure_latency,
    onnx_runner,
    quantize_int8,
    torch_runner,
    write_serving_files,
)
from ft_assets.tokenizing.versioning import content_name
from ft_resources.artifact_store import ArtifactStore


class OnnxConfig(dg.Config):
    parity_texts: int = Field(default=64, description="Validation texts compared between torch and ONNX.")
    parity_tolerance: float = Field(
        default=PARITY_TOLERANCE, description="Largest allowed |logit difference|."
    )
    max_int8_accuracy_drop: float = Field(default=0.01, description="A bigger INT8 accuracy drop is flagged.")
    latency_texts: int = Field(default=32, description="Validation texts used to time each backend.")


def _accuracy(classifier: OnnxClassifier, texts: list[str], labels: list[str]) -> float:
    predictions = classifier.predict(texts, batch_size=64)
    return sum(p.label == y for p, y in zip(predictions, labels, strict=True)) / max(len(labels), 1)


@dg.asset(
    group_name="serving",
    kinds={"onnx", "pytorch"},
    code_version="2",  # 2: never scores the model on its own train texts
    description=(
        "fine_tuned_model exported to ONNX (fp32, dynamic batch and sequence axes) with bundle.json, "
        "the spec every reader uses (labels, the max_length the model was trained with, truncation "
        "side, inputs), and checked against torch on validation texts encoded as the bundle serves them "
        "(max |logit diff| and identical predictions, or the asset fails), plus a dynamically quantized "
        "INT8 model with its test accuracy beside fp32's, and batch-1 / batch-32 "
        "latencies for torch, ONNX fp32 and ONNX INT8."
    ),
)
def onnx_model(
    context: dg.AssetExecutionContext,
    config: OnnxConfig,
    fine_tuned_model: dict[str, Any],
    tokenized_dataset: dict[str, Any],
    evaluation_report: dict[str, Any],
    artifact_store: ArtifactStore,
) -> dg.Output[dict[str, Any]]:
    # The test ids must be the model's encoding and name its classes: the INT8 accuracy is computed on them.
    label_names = scorable_labels(fine_tuned_model, tokenized_dataset, "onnx_model")
    model_dir = artifact_store.local_path(fine_tuned_model["path"])
    dataset = load_from_disk(str(artifact_store.local_path(tokenized_dataset["path"])))
    # The fp32 and INT8 test accuracies are scored on this test split: none of it may be train texts.
    trained_splits(artifact_store, fine_tuned_model, tokenized_dataset, dataset, "onnx_model")
    validation_texts = dataset["validation"]["text"] or dataset["train"]["text"]
    # Named by its bytes, so a re-export that differs (another exporter, say) is a new folder and the one
    # an earlier manifest names is never rewritten: an object store cannot replace a folder in one step.
    naming = partial(content_name, fine_tuned_model["model_version"])
    with artifact_store.write_named_dir("onnx_model", naming) as written:
        out = written.path
        export_onnx(model_dir, out / MODEL_FILE)
        spec = write_serving_files(
            model_dir,
            out,
            model_version=fine_tuned_model["model_version"],
            data_version=fine_tuned_model["data_version"],
            base_model=fine_tuned_model["base_model"],
            max_length=fine_tuned_model["max_length"],
        )
        if list(spec.labels) != label_names:
            raise dg.Failure(f"the model's labels {list(spec.labels)} are not the data's {label_names}")
        evaluated_at = evaluation_report["report"].get("max_length")
        if evaluated_at != spec.max_length:
            raise dg.Failure(
                f"evaluation_report scored the model with texts cut at {evaluated_at} tokens, but it was "
                f"trained at {spec.max_length}; materialize evaluation_report again"
            )
        parity = check_parity(
            model_dir, out, validation_texts[: config.parity_texts], config.parity_tolerance
        )
        if not parity.passed:
            raise dg.Failure(
                description=(
                    f"ONNX parity failed on {parity.n_texts} validation texts: max |logit diff| "
                    f"{parity.max_abs_diff:.3g} (limit {config.parity_tolerance:g}), predictions match: "
                    f"{parity.predictions_match}"
                ),
                metadata={"max_abs_diff": dg.MetadataValue.float(float(parity.max_abs_diff))},
            )
        quantize_int8(out / MODEL_FILE, out / INT8_MODEL_FILE)
        test = dataset["test"]
        truth = [label_names[i] for i in test["labels"]]
        fp32_accuracy = _accuracy(OnnxClassifier(out), test["text"], truth)
        int8_accuracy = _accuracy(OnnxClassifier(out, int8=True), test["text"], truth)
        threads = torch.get_num_threads()
        timing_texts = validation_texts[: config.latency_texts]
        latencies = [
            measure_latency(run, timing_texts, backend=backend, threads=threads)
            for backend, run in (
                ("torch", torch_runner(model_dir, spec)),
                ("onnxruntime", onnx_runner(out, int8=False, threads=threads)),
                ("onnxruntime", onnx_runner(out, int8=True, threads=threads)),
            )
        ]
        sizes = {name: (out / name).stat().st_size for name in (MODEL_FILE, INT8_MODEL_FILE)}
    rel = written.rel
    drop = fp32_accuracy - int8_accuracy
    if drop > config.max_int8_accuracy_drop:
        context.log.warning(
            f"INT8 loses {drop:.2%} test accuracy against fp32 (limit {config.max_int8_accuracy_drop:.0%})"
        )
    rows = [
        {
            "backend": name,
            "p50_ms": round(r.p50_ms, 2),
            "p95_ms": round(r.p95_ms, 2),
            "batch32_texts_per_s": round(r.texts_per_s, 1),
        }
        for name, r in zip(("torch", "onnx fp32", "onnx int8"), latencies, strict=True)
    ]
    manifest = {
        # Masked: the manifest is stored and shown; the store maps it back onto the real root to read.
        "path": artifact_store.display(rel),
        "model_version": fine_tuned_model["model_version"],
        "data_version": fine_tuned_model["data_version"],
        # The training data, for the gate's own check that it scores the model on none of it.
        "tokenized_version": fine_tuned_model["tokenized_version"],
        "dataset_path": dataset_path(fine_tuned_model),
        "max_length": spec.max_length,
        "bundle_spec": spec.to_json(),
        "parity_max_abs_diff": parity.max_abs_diff,
        "fp32_test_accuracy": fp32_accuracy,
        "int8_test_accuracy": int8_accuracy,
        "int8_accuracy_drop_flagged": drop > config.max_int8_accuracy_drop,
        "latency": rows,
        "sizes": sizes,
        # Masked again: a manifest written before paths were masked may still hold the raw URI.
        "evaluation_path": artifact_store.display(evaluation_report["path"]),
    }
    return dg.Output(
        manifest,
        data_version=dg.DataVersion(PurePosixPath(rel).name),  # its content name: the graph's bytes
        metadata={
            "parity_max_abs_diff": dg.MetadataValue.float(float(parity.max_abs_diff)),
            "parity_texts": dg.MetadataValue.int(parity.n_texts),
            "fp32_test_accuracy": dg.MetadataValue.float(round(fp32_accuracy, 4)),
            "int8_test_accuracy": dg.MetadataValue.float(round(int8_accuracy, 4)),
            "int8_accuracy_drop_flagged": dg.MetadataValue.bool(drop > config.max_int8_accuracy_drop),
            "fp32_size_mb": dg.MetadataValue.float(round(sizes[MODEL_FILE] / 2**20, 2)),
            "int8_size_mb": dg.MetadataValue.float(round(sizes[INT8_MODEL_FILE] / 2**20, 2)),
            "latency": md_table(rows, list(rows[0])),
            "threads": dg.MetadataValue.int(threads),
            "model_version": dg.MetadataValue.text(manifest["model_version"]),
            "max_length": dg.MetadataValue.int(spec.max_length),
            SPEC_FILE: dg.MetadataValue.json(spec.to_json()),
        },
    )
