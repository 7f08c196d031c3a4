"""Torch-free, Dagster-free inference from a production bundle: onnxruntime, tokenizers, numpy."""
