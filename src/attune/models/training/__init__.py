"""Training, evaluation, ONNX export and model cards of the shipped models (`attune train ...`,
benches and quality tests)."""
