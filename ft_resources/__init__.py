"""Resources, IO managers and the torch-free ONNX classifier used by the pipeline."""
