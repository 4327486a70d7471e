"""ResNet-18 / -34 / -50 in plain torch (torchvision cannot be installed beside attune's torch)."""
from __future__ import annotations

from torch import Tensor, nn

from attune.models.layers.basic_block import BasicBlock
from attune.models.layers.bottleneck import Bottleneck

#: Blocks per stage and block type of each depth (He et al. 2016, table 1).
DEPTHS: dict[int, tuple[type[BasicBlock] | type[Bottleneck], tuple[int, int, int, int]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
}


class ResNet(nn.Module):
    r"""A ResNet image encoder (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016,
    https://arxiv.org/abs/1512.03385) with selectable depth, width and input size, without its classifier.

    Stem: 7x7 convolution, stride 2, BN, ReLU, 3x3 max pool, stride 2 (as the paper) for inputs of 32
    pixels and more; for smaller inputs a 3x3 convolution, stride 1, and the max pool (a 16-pixel input
    would otherwise reach the last stage at 1x1 after two stages). Then four stages of `DEPTHS[depth]` blocks with
    widths `width * (1, 2, 4, 8)` (times 4 for bottlenecks), strides (1, 2, 2, 2), and global average
    pooling. `width=64` is the paper's network; attune's models use narrower ones (see the model card).

    Args:
        depth: 18, 34 or 50.
        input_size: side of the square input in pixels (>= 16); chooses the stem.
        in_channels: 1 (grey) or 3 (RGB).
        width: channels of the first stage (64 in the paper).

    Shapes:
        - input: (B, in_channels, input_size, input_size)
        - output: (B, embedding_size) with embedding_size = 8 * width * expansion
    """

    def __init__(self, depth: int = 18, input_size: int = 64, in_channels: int = 1, width: int = 64) -> None:
        super().__init__()
        if depth not in DEPTHS:
            raise ValueError(f'{type(self).__name__}: depth must be one of {sorted(DEPTHS)}, got {depth}')
        if input_size < 16:
            raise ValueError(f'{type(self).__name__}: input_size must be >= 16, got {input_size}')
        if width < 4 or in_channels < 1:
            raise ValueError(f'{type(self).__name__}: width must be >= 4 and in_channels >= 1')
        block, counts = DEPTHS[depth]
        self.depth, self.input_size, self.in_channels, self.width = depth, input_size, in_channels, width
        if input_size >= 32:
            conv = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
        else:
            conv = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.stem = nn.Sequential(conv, nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        stages: list[nn.Module] = []
        channels_in = width
        for i, count in enumerate(counts):
            channels = width * 2 ** i
            blocks: list[nn.Module] = []
            for j in range(count):
                blocks.append(block(channels_in, channels, 2 if (j == 0 and i > 0) else 1))
                channels_in = channels * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.embedding_size = channels_in
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.stem.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for block in self.stages.modules():
            if isinstance(block, BasicBlock | Bottleneck):
                block.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.pool(self.stages(self.stem(x))).flatten(1)
        return out
