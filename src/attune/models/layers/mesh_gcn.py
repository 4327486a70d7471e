"""The three-layer graph convolutional network over the FaceMesh graph (landmark branch)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from attune.models.layers.gcn_conv import GCNConv


class MeshGCN(nn.Module):
    r"""Three GCN layers over the 478 FaceMesh landmarks, then mean and max pooling over the nodes.

    Node input: the aligned landmark position :math:`p_i` (canonical decimetres, see
    `attune.affect.features`) and its displacement from the canonical neutral face,
    :math:`10 (p_i - r_i)` (centimetres), so the small expression deformations are on the same scale
    as the positions:

    .. math::
        H^{(0)} = [P, 10 (P - R)], \quad H^{(l+1)} = \mathrm{ReLU}(\mathrm{GCNConv}(H^{(l)}, \hat{A})),
        \quad z = W [\mathrm{mean}_i H^{(3)}_i, \max_i H^{(3)}_i] + b

    Args:
        adjacency: (N, N) normalized adjacency of the graph (a buffer: it travels with the weights and
            into the ONNX file). In training mode a sparse copy of it propagates (faster); in eval
            mode (and so in the exported graph) the dense one.
        reference: (N, 3) the canonical neutral face in the same units as the input.
        hidden: channels of the three GCN layers.
        embedding: size of the output embedding.
        dropout: dropout between layers (training only).

    Shapes:
        - input landmarks: (B, N, 3)
        - output: (B, embedding)
    """

    adjacency: Tensor  # buffers, registered in __init__
    reference: Tensor

    def __init__(self, adjacency: Tensor, reference: Tensor, hidden: int = 64, embedding: int = 128,
                 dropout: float = 0.1) -> None:
        super().__init__()
        n = adjacency.shape[0]
        if adjacency.shape != (n, n) or reference.shape != (n, 3):
            raise ValueError(f'{type(self).__name__}: adjacency must be (N, N) and reference (N, 3), '
                             f'got {tuple(adjacency.shape)} and {tuple(reference.shape)}')
        self.register_buffer('adjacency', adjacency.to(torch.float32).clone())
        self._sparse: Tensor | None = None
        self.register_buffer('reference', reference.to(torch.float32).clone())
        self.convs = nn.ModuleList([GCNConv(6, hidden), GCNConv(hidden, hidden), GCNConv(hidden, hidden)])
        self.dropout = nn.Dropout(dropout)
        self.readout = nn.Linear(2 * hidden, embedding)
        self.embedding_size = embedding
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv in self._layers():
            conv.reset_parameters()
        self.readout.reset_parameters()

    def forward(self, landmarks: Tensor) -> Tensor:
        h = torch.cat([landmarks, (landmarks - self.reference) * 10.0], dim=-1)
        adjacency = self.adjacency
        if self.training:
            if self._sparse is None or self._sparse.device != adjacency.device:
                self._sparse = adjacency.to_sparse().coalesce()
            adjacency = self._sparse
        for i, conv in enumerate(self._layers()):
            h = torch.relu(conv(h, adjacency))
            if i < len(self.convs) - 1:
                h = self.dropout(h)
        pooled = torch.cat([h.mean(dim=1), h.amax(dim=1)], dim=-1)
        embedding: Tensor = self.readout(pooled)
        return embedding

    def _layers(self) -> list[GCNConv]:
        return [conv for conv in self.convs if isinstance(conv, GCNConv)]
