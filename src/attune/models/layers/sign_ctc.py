"""ContinuousSignRecognizer: frame-wise gloss posteriors for CTC over a sequence of frames."""
from __future__ import annotations

import torch
from torch import nn

from attune.models.layers.sign_encoder import SignEncoder


class ContinuousSignRecognizer(nn.Module):
    r"""SignEncoder + a frame-wise classifier over the glosses and the CTC blank (index 0).

    .. math::
        \mathrm{logits}_t = W h_t + b, \qquad
        p(\ell \mid x) = \sum_{\pi \in \mathcal{B}^{-1}(\ell)} \prod_t \mathrm{softmax}(\mathrm{logits}_t)_{\pi_t}

    (:math:`\mathcal{B}` removes repeats, then blanks; trained with `torch.nn.CTCLoss`, decoded
    greedily or with a prefix beam search, attune.sign.ctc).

    Args:
        encoder: the SignEncoder.
        num_glosses: vocabulary size C (outputs C + 1 with the blank).

    Shapes:
        input: (B, T, F); output: (B, T, C + 1) logits.
    """

    def __init__(self, encoder: SignEncoder, num_glosses: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.num_glosses = num_glosses
        self.head = nn.Linear(encoder.dim, num_glosses + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.encoder(x))
        return out
