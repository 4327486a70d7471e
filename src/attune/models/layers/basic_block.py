"""The two-convolution residual block of ResNet-18 and -34."""
from __future__ import annotations

from torch import Tensor, nn


def reset_residual_block(block: nn.Module, last_bn: nn.BatchNorm2d) -> None:
    """Kaiming-normal convolutions and unit BNs; the last BN starts at zero so the block starts as identity."""
    for m in block.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    nn.init.zeros_(last_bn.weight)


class BasicBlock(nn.Module):
    r"""He et al., "Deep Residual Learning for Image Recognition" (CVPR 2016,
    https://arxiv.org/abs/1512.03385), figure 5 left:

    .. math::
        y = \mathrm{ReLU}(\mathrm{BN}(\mathrm{conv}_{3\times3}(\mathrm{ReLU}(\mathrm{BN}(\mathrm{conv}_{3\times3}(x)))))
        + \mathrm{shortcut}(x))

    The shortcut is a 1x1 convolution + BN where stride or width change (option B), else identity.

    Args:
        in_channels: input channels.
        channels: output channels (expansion 1).
        stride: stride of the first convolution (2 halves the resolution).

    Shapes:
        - input: (B, in_channels, H, W)
        - output: (B, channels, ceil(H / stride), ceil(W / stride))
    """

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_residual_block(self, self.bn2)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = self.relu(out + self.shortcut(x))
        return out
