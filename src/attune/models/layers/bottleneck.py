"""The three-convolution bottleneck residual block of ResNet-50."""
from __future__ import annotations

from torch import Tensor, nn

from attune.models.layers.basic_block import reset_residual_block


class Bottleneck(nn.Module):
    r"""He et al., "Deep Residual Learning for Image Recognition" (CVPR 2016,
    https://arxiv.org/abs/1512.03385), figure 5 right, with the stride on the 3x3 convolution
    (the "ResNet v1.5" placement torchvision uses):

    .. math::
        y = \mathrm{ReLU}(\mathrm{BN}(\mathrm{conv}_{1\times1}(\mathrm{ReLU}(\mathrm{BN}(\mathrm{conv}_{3\times3}
        (\mathrm{ReLU}(\mathrm{BN}(\mathrm{conv}_{1\times1}(x))))))) + \mathrm{shortcut}(x))

    Args:
        in_channels: input channels.
        channels: bottleneck width; the block outputs `channels * 4`.
        stride: stride of the 3x3 convolution.

    Shapes:
        - input: (B, in_channels, H, W)
        - output: (B, 4 * channels, ceil(H / stride), ceil(W / stride))
    """

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_residual_block(self, self.bn3)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = self.relu(out + self.shortcut(x))
        return out
