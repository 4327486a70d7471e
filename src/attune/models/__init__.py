"""Torch model definitions and training code (imported by training CLIs and tests only; the nodes
run the exported ONNX files with onnxruntime). Shipped models (.onnx) and their cards (.md) live
beside this file."""
