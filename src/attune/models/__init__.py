"""attune's own models: network definitions (layers/), the code that trains, evaluates and exports
them (training/), and the shipped artefacts (resources/: ONNX files, model cards, operating points),
which the nodes load through attune.resources.model_file."""
