"""MODEL_CARD.md for a production bundle."""

from __future__ import annotations

from typing import Any


def render_model_card(report: dict[str, Any], onnx: dict[str, Any], decision_reason: str) -> str:
    labels = report["labels"]
    per_class = "\n".join(
        f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |"
        for label, m in report["per_class"].items()
    )
    latency = "\n".join(
        f"| {r['backend']} | {r['p50_ms']} | {r['p95_ms']} | {r['batch32_texts_per_s']} |"
        for r in onnx["latency"]
    )
    baseline = report.get("majority_baseline", {})
    nan = float("nan")
    lexical = report.get("lexical_baseline") or {}
    margin = report.get("margin_over_lexical_baseline") or {}
    lexical_scores = f"{lexical.get('accuracy', nan):.4f} / {lexical.get('macro_f1', nan):.4f}"
    margins = f"{margin.get('accuracy', nan):+.4f} / {margin.get('macro_f1', nan):+.4f}"
    return f"""# Model card: {report["model_version"]}

Text classifier fine-tuned from `{report["base_model"]}` by the ft-pipeline Dagster project.

- Model version: `{report["model_version"]}`
- Data version (hash of the train/validation/test texts and labels): `{report["data_version"]}`
- Labels (id -> label): {", ".join(f"{k}: {v}" for k, v in labels.items())}
- Promotion: {decision_reason}

## Test-split metrics ({report["n_test"]} texts)
| metric | value |
|---|---:|
| accuracy | {report["accuracy"]:.4f} |
| macro F1 | {report["macro_f1"]:.4f} |
| macro precision | {report["macro_precision"]:.4f} |
| macro recall | {report["macro_recall"]:.4f} |
| majority-class baseline accuracy | {baseline.get("accuracy", float("nan")):.4f} |
| TF-IDF + logistic regression baseline, accuracy / macro F1 | {lexical_scores} |
| margin over the TF-IDF baseline, accuracy / macro F1 | {margins} |
| ONNX fp32 test accuracy | {onnx["fp32_test_accuracy"]:.4f} |
| ONNX INT8 test accuracy | {onnx["int8_test_accuracy"]:.4f} |

| label | precision | recall | F1 | support |
|---|---:|---:|---:|---:|
{per_class}

## Serving
`model.onnx` (fp32) and `model.int8.onnx` (dynamic INT8) take `input_ids`, `attention_mask` (and
`token_type_ids` where the base model uses them) and return `logits`; `tokenizer.json` is the matching fast
tokenizer, texts longer than {onnx["max_length"]} tokens are truncated. `ft-predict --model DIR` serves it
without torch.

| backend | batch-1 p50 ms | batch-1 p95 ms | batch-32 texts/s |
|---|---:|---:|---:|
{latency}

## Intended use and limits
- Routing or tagging texts that resemble the training data, into exactly the labels above.
- Every input gets one of these labels, even text that belongs to none of them: check `score`.
- Scores are softmax outputs, not calibrated probabilities.
- Quality was measured on a held-out split of the same data source; text from another domain, language or
  time can score much lower. Re-evaluate before relying on it there.
"""
