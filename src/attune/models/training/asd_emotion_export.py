"""ONNX export of a trained ASD emotion model, with its settings as metadata, and the torch reference
outputs the ONNX/torch agreement test compares against."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from attune.affect.dataset import FaceDataset
from attune.affect.evaluation import resize_crops
from attune.affect.features import crop_geometry
from attune.affect.model import METADATA_KEY
from attune.emotions import EMOTIONS
from attune.models.training.asd_emotion_metrics import softmax
from attune.models.training.asd_emotion_training import TrainResult, canonical_reference, predict, to_tensors


def torch_reference(result: TrainResult, data: FaceDataset, count: int = 8) -> dict[str, npt.NDArray[Any]]:
    """Real inputs (the first `count` test faces, else any) and the torch model's outputs on them: what a
    test compares onnxruntime against without torch."""
    index = np.flatnonzero(result.split.test)[:count]
    if len(index) < count:
        index = np.arange(min(count, len(data)))
    subset = data.subset(index)
    tensors = to_tensors(subset, result.config.input_size)
    logits = predict(result.model, tensors)
    return {'crops': resize_crops(subset.crops, result.config.input_size), 'landmarks': subset.landmarks,
            'logits': logits.astype(np.float32), 'probabilities': softmax(logits).astype(np.float32)}



class _Exported(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, crop: torch.Tensor, landmarks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.model(crop, landmarks)
        return logits, torch.softmax(logits, dim=-1)


def metadata(result: TrainResult) -> dict[str, Any]:
    c = result.config
    resnet = c.backbone == 'resnet'  # depth and width are the ResNet's; 0 for another backbone
    return {'backbone': c.backbone, 'depth': c.depth if resnet else 0, 'width': c.width if resnet else 0,
            'input_size': c.input_size, 'crop': crop_geometry(), 'emotions': list(EMOTIONS),
            'temperature': c.temperature, 'majority_class': result.majority_class,
            'neutral_reference': [round(float(x), 6) for x in result.neutral_reference],
            'config': asdict(c), 'members': len(getattr(result.model, 'members', ())) or 1}


def export_onnx(result: TrainResult, path: Path | str) -> dict[str, Any]:
    """Write the model as ONNX (inputs crop, landmarks; outputs logits, probabilities; dynamic batch),
    with the settings in metadata; check onnxruntime against torch. Returns the check's numbers."""
    import onnx
    import onnxruntime as ort

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = _Exported(result.model).eval()
    size = result.config.input_size
    example = (torch.zeros(2, 1, size, size), torch.zeros(2, 478, 3))
    batch = torch.export.Dim('batch', min=1, max=1024)
    program = torch.onnx.export(model, example, dynamo=True, input_names=['crop', 'landmarks'],
                                output_names=['logits', 'probabilities'],
                                dynamic_shapes={'crop': {0: batch}, 'landmarks': {0: batch}}, verbose=False)
    if program is None:
        raise RuntimeError('torch.onnx.export returned no program')
    program.save(str(path))
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata(result))
    proto.producer_name = 'attune train asd-emotion'
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    # onnxruntime against torch on random and batch-1 inputs
    generator = torch.Generator().manual_seed(1)
    crops = torch.rand(5, 1, size, size, generator=generator) * 2 - 1
    landmarks = torch.from_numpy(canonical_reference())[None].repeat(5, 1, 1) + 0.02 * torch.randn(
        5, 478, 3, generator=generator)
    with torch.no_grad():
        expected = model(crops, landmarks)[1].numpy()
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    got = session.run(['probabilities'], {'crop': crops.numpy(), 'landmarks': landmarks.numpy()})[0]
    single = session.run(['probabilities'], {'crop': crops[:1].numpy(), 'landmarks': landmarks[:1].numpy()})[0]
    return {'max_abs_diff': float(np.abs(got - expected).max()),
            'batch1_max_abs_diff': float(np.abs(single - expected[:1]).max()),
            'bytes': path.stat().st_size}
