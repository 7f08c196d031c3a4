"""MODEL_CARD.md for a production bundle: what the model scored and what the bundle holds."""

from __future__ import annotations

from typing import Any

from ft_serving.spec import SPEC_FILE, BundleSpec

from ft_assets.markdown import escape_cell, table


def render_model_card(report: dict[str, Any], onnx: dict[str, Any], decision_reason: str) -> str:
    """``onnx`` is onnx_model's output; its ``bundle_spec`` is the bundle.json written beside the graphs."""
    spec = BundleSpec.from_json(onnx["bundle_spec"])
    labels = report["labels"]
    per_class = table(
        ["label", "precision", "recall", "F1", "support"],
        [
            [
                escape_cell(label),
                f"{m['precision']:.3f}",
                f"{m['recall']:.3f}",
                f"{m['f1']:.3f}",
                str(m["support"]),
            ]
            for label, m in report["per_class"].items()
        ],
        "lrrrr",
    )
    latency = table(
        ["backend", "batch-1 p50 ms", "batch-1 p95 ms", "batch-32 texts/s"],
        [
            [r["backend"], str(r["p50_ms"]), str(r["p95_ms"]), str(r["batch32_texts_per_s"])]
            for r in onnx["latency"]
        ],
        "lrrr",
    )
    baseline = report.get("majority_baseline", {})
    nan = float("nan")
    lexical = report.get("lexical_baseline") or {}
    margin = report.get("margin_over_lexical_baseline") or {}
    metrics = table(
        ["metric", "value"],
        [
            ["accuracy", f"{report['accuracy']:.4f}"],
            ["macro F1", f"{report['macro_f1']:.4f}"],
            ["macro precision", f"{report['macro_precision']:.4f}"],
            ["macro recall", f"{report['macro_recall']:.4f}"],
            ["majority-class baseline accuracy", f"{baseline.get('accuracy', nan):.4f}"],
            [
                "TF-IDF + logistic regression baseline, accuracy / macro F1",
                f"{lexical.get('accuracy', nan):.4f} / {lexical.get('macro_f1', nan):.4f}",
            ],
            [
                "margin over the TF-IDF baseline, accuracy / macro F1",
                f"{margin.get('accuracy', nan):+.4f} / {margin.get('macro_f1', nan):+.4f}",
            ],
            ["ONNX fp32 test accuracy", f"{onnx['fp32_test_accuracy']:.4f}"],
            ["ONNX INT8 test accuracy", f"{onnx['int8_test_accuracy']:.4f}"],
        ],
        "lr",
    )
    return f"""# Model card: {report["model_version"]}

Text classifier fine-tuned from `{report["base_model"]}` by the ft-pipeline Dagster project.

- Model version: `{report["model_version"]}`
- Trained on data version (hash of the train/validation/test texts and labels): `{report["data_version"]}`
- Tested on data version: `{report.get("test_data_version", report["data_version"])}`
- Labels (id -> label): {", ".join(f"{k}: {v}" for k, v in labels.items())}
- Promotion: {decision_reason}
- Fine-tuning: {_fine_tuning(report.get("fine_tuning") or {})}

## Test-split metrics ({report["n_test"]} texts)
{metrics}

{per_class}

## The bundle
{_bundle_table(spec)}

Texts longer than {spec.max_length} tokens (special tokens included) lose their {_dropped(spec)} to the fast
tokenizer's truncation, exactly as in training and evaluation: `{SPEC_FILE}` records that length, the
truncation side, the labels and the graph inputs, and every reader (`ft-predict`, `ft-serve`, the promotion
gate, batch predictions) takes them from there. `ft-predict --model DIR` serves the bundle without torch.

{latency}

## Intended use and limits
- Routing or tagging texts that resemble the training data, into exactly the labels above.
- Every input gets one of these labels, even text that belongs to none of them: check `score`.
- Scores are softmax outputs, not calibrated probabilities.
- Quality was measured on a held-out split of the same data source; text from another domain, language or
  time can score much lower. Re-evaluate before relying on it there.
"""


def _bundle_table(spec: BundleSpec) -> str:
    files = spec.files
    inputs = ", ".join(f"`{name}`" for name in spec.model_inputs)
    rows = [
        [f"`{files.model}`", f"fp32 ONNX graph: {inputs} in, `logits` ({len(spec.labels)} per text) out"],
        [f"`{files.int8_model}`", "the same graph with dynamically quantized INT8 weights (per channel)"],
        [
            f"`{files.tokenizer}` (+ `{files.tokenizer_config}`)",
            "the fast tokenizer the model was trained with",
        ],
        [f"`{files.labels}`", "id -> label, in the order of the logits"],
        [f"`{files.report}`", "the test-split evaluation of this model version"],
        [f"`{files.model_card}`", "this card"],
        [
            f"`{SPEC_FILE}`",
            f"the spec: model `{spec.model_version}`, data `{spec.data_version}`, base `{spec.base_model}`, "
            f"max_length {spec.max_length}, truncation {spec.truncation_side}",
        ],
    ]
    return table(["file", "holds"], rows)


def _dropped(spec: BundleSpec) -> str:
    return "end" if spec.truncation_side == "right" else "beginning"


def _fine_tuning(tuning: dict[str, Any]) -> str:
    """Which method trained the model, how many parameters it trained and, for LoRA, the adapter size."""
    if not tuning:
        return "not recorded"
    adapter = tuning.get("adapter_bytes")
    merged = f"; the {adapter / 1024:.0f} KiB adapter is merged into the weights" if adapter else ""
    head = {"mean": "the mean of the token vectors", "cls": "the model's own [CLS] head"}.get(
        tuning.get("pooling", ""), "not recorded"
    )
    return (
        f"`{tuning['method']}`, {tuning['trainable_parameters']:,} of {tuning['total_parameters']:,} "
        f"parameters trained ({tuning['detail']}){merged}; the classifier reads {head}"
    )
