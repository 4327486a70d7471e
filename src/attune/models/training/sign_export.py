"""Sign models to and from ONNX: export with their SignModelInfo as metadata, the torch model back from
an exported file, and the check that torch and onnxruntime agree."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from attune.sign.features import FEATURE_DIM
from attune.sign.model import METADATA_KEY, SignModelInfo
from attune.sign.segments import windows

if TYPE_CHECKING:
    from attune.models.training.sign_training import SignTrainResult


def build_model(info: SignModelInfo) -> nn.Module:
    """An untrained torch model of the architecture `info` describes."""
    from attune.models.layers.sign_classifier import IsolatedSignClassifier
    from attune.models.layers.sign_ctc import ContinuousSignRecognizer
    from attune.models.layers.sign_encoder import SignEncoder

    encoder = SignEncoder(info.feature_dim, **info.architecture)
    if info.task == 'isolated':
        return IsolatedSignClassifier(encoder, len(info.glosses))
    return ContinuousSignRecognizer(encoder, len(info.glosses))


def torch_model_from_onnx(path: Path) -> tuple[nn.Module, SignModelInfo]:
    """The torch model of an exported sign model, its weights read back from the ONNX
    initializers (export keeps them under their state_dict names)."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(path))
    meta = {p.key: p.value for p in proto.metadata_props}
    info = SignModelInfo.from_json(meta[METADATA_KEY])
    model = build_model(info)
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in proto.graph.initializer}
    model.load_state_dict({k: weights[k] for k in model.state_dict()}, strict=True)
    return model.eval(), info



def export_onnx(result: SignTrainResult, path: Path) -> Path:
    """Write the model as ONNX (dynamic time axis) with its SignModelInfo as metadata."""
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = result.model.eval()
    length = result.info.window if result.info.task == 'isolated' else 64
    example = torch.zeros(2, length, FEATURE_DIM)
    batch = torch.export.Dim('batch', min=1, max=4096)
    max_len = int(result.info.architecture.get('max_len', 512))  # 512: SignEncoder's default
    frames = torch.export.Dim('frames', min=1, max=max_len)
    # optimize=False keeps every weight as an initializer under its state_dict name, so the torch
    # model can be rebuilt from the file (torch_model_from_onnx); onnxruntime optimizes at load.
    program = torch.onnx.export(model, (example,), dynamo=True, dynamic_shapes=({0: batch, 1: frames},),
                                input_names=['features'], output_names=['logits'], verbose=False,
                                optimize=False)
    if program is None:  # dynamo=True always returns the program
        raise RuntimeError('torch.onnx.export returned no ONNX program')
    program.save(str(path))
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, result.info.to_json()
    proto.doc_string = f'attune sign model {result.info.name} ({result.info.task})'
    onnx.save(proto, str(path))
    return path


def check_onnx(result: SignTrainResult, path: Path, tolerance: float = 1e-3) -> float:
    """Largest |torch - onnxruntime| logit difference on held-out inputs; raises above tolerance."""
    from attune.errors import ModelFileError
    from attune.sign.model import SignModel

    model = result.model.eval()
    onnx_model = SignModel(str(path))
    if result.info.task == 'isolated':
        x, _, _ = windows(result.split.test, result.info.window, 7)
        inputs = [x[:256]] if len(x) else [np.zeros((1, result.info.window, FEATURE_DIM), np.float32)]
    else:
        from attune.models.training.sign_training import held_out_sequences

        inputs = [s.features[None] for s in held_out_sequences(result.split, result.config)[:20]]
    worst = 0.0
    with torch.no_grad():
        for x in inputs:
            expected = model(torch.from_numpy(x)).numpy()
            worst = max(worst, float(np.abs(onnx_model.logits(x) - expected).max()))
    if worst > tolerance:
        raise ModelFileError(f'{path}: ONNX and torch disagree by {worst:.2e} (> {tolerance:.0e})')
    return worst
