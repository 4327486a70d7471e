"""Torch model definitions and their training code (imported by training CLIs and tests only).

The nodes never import torch: shipped models are ONNX files in this folder, each with a model
card `<name>.md`, run with onnxruntime.
"""
