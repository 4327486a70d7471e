"""The ASD emotion network: ResNet on the face crop + GCN on the FaceMesh landmarks, fused, 7 emotions."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from attune.models.layers.fer_encoder import FerEncoder
from attune.models.layers.mesh_gcn import MeshGCN
from attune.models.layers.resnet import ResNet


class AsdEmotionNet(nn.Module):
    r"""Fusion of an image embedding and a landmark-graph embedding into emotion logits, after the ASD
    name-call study (a fine-tuned ResNet and a three-layer GCN over MediaPipe FaceMesh, fused, trained
    on soft labels with a KL divergence):

    .. math::
        z = W_2\, \mathrm{Dropout}(\mathrm{ReLU}(W_1 [\mathrm{ResNet}(c), \mathrm{GCN}(P)] + b_1)) + b_2

    Args:
        resnet: the crop encoder (a ResNet, or the pretrained mini-Xception: anything with `embedding_size`;
            the attribute keeps its name so that saved weights of either load).
        gcn: the landmark encoder.
        num_classes: outputs (7: `attune.emotions.EMOTIONS`).
        hidden: width of the fusion layer.
        dropout: dropout before the classifier.

    Shapes:
        - input crop: (B, resnet.in_channels, resnet.input_size, resnet.input_size), in [-1, 1]
        - input landmarks: (B, N, 3) aligned landmarks
        - output: (B, num_classes) logits
    """

    def __init__(self, resnet: ResNet | FerEncoder, gcn: MeshGCN, num_classes: int = 7, hidden: int = 128,
                 dropout: float = 0.3) -> None:
        super().__init__()
        self.resnet = resnet
        self.gcn = gcn
        self.fusion = nn.Linear(resnet.embedding_size + gcn.embedding_size, hidden)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, num_classes)
        self.num_classes = num_classes

    def reset_parameters(self) -> None:
        self.resnet.reset_parameters()
        self.gcn.reset_parameters()
        self.fusion.reset_parameters()
        self.classifier.reset_parameters()

    def forward(self, crop: Tensor, landmarks: Tensor) -> Tensor:
        fused = torch.cat([self.resnet(crop), self.gcn(landmarks)], dim=-1)
        logits: Tensor = self.classifier(self.dropout(torch.relu(self.fusion(fused))))
        return logits
