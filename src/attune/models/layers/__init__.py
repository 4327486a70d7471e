"""Network definitions in plain torch (layers and whole networks); imported by training code and
tests only. The nodes run the exported ONNX files with onnxruntime."""
