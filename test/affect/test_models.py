"""The torch models: GCN layer (PyG-style tests on a 4-node graph), ResNet depths, GCN, fusion."""
from __future__ import annotations

import pytest
import torch

from attune.models.layers.asd_emotion_net import AsdEmotionNet
from attune.models.layers.gcn_conv import GCNConv, gcn_norm
from attune.models.layers.mesh_gcn import MeshGCN
from attune.models.layers.resnet import ResNet

# a path 0-1-2-3 plus the edge 1-3, both directions (PyG's edge_index convention)
EDGE_INDEX = torch.tensor([[0, 1, 1, 2, 2, 3, 1, 3], [1, 0, 2, 1, 3, 2, 3, 1]])


def test_gcn_norm_on_a_four_node_graph() -> None:
    a = gcn_norm(EDGE_INDEX, 4)
    degree = torch.tensor([2.0, 4.0, 3.0, 3.0])  # with self loops
    assert a[0, 1] == pytest.approx(1 / (2 * 4) ** 0.5)
    assert a[1, 3] == pytest.approx(1 / (4 * 3) ** 0.5)
    assert a[0, 2] == 0 and a[0, 0] == pytest.approx(1 / 2)
    assert torch.allclose(a, a.T)
    assert torch.allclose(torch.diagonal(a), 1 / degree)
    no_loops = gcn_norm(EDGE_INDEX, 4, add_self_loops=False)
    assert torch.diagonal(no_loops).abs().sum() == 0


@pytest.mark.parametrize(('c_in', 'c_out'), [(3, 8), (8, 3)])
def test_gcn_conv_dense_sparse_and_formula_agree(c_in: int, c_out: int) -> None:
    torch.manual_seed(0)
    conv = GCNConv(c_in, c_out)
    assert repr(conv) == f'GCNConv({c_in}, {c_out})'
    a = gcn_norm(EDGE_INDEX, 4)
    x = torch.randn(2, 4, c_in)
    out = conv(x, a)
    assert out.shape == (2, 4, c_out)
    assert torch.allclose(out, a @ x @ conv.weight + conv.bias, atol=1e-6)
    assert torch.allclose(conv(x, a.to_sparse()), out, atol=1e-6)
    # node 0 only sees itself and node 1
    x2 = x.clone()
    x2[:, 2] += 10.0
    assert torch.allclose(conv(x2, a)[:, 0], out[:, 0])


def test_gcn_conv_rejects_empty_widths() -> None:
    with pytest.raises(ValueError, match='GCNConv'):
        GCNConv(0, 4)


@pytest.mark.parametrize(('depth', 'size', 'width', 'embedding'), [(18, 64, 16, 128), (34, 48, 4, 32),
                                                                   (50, 64, 4, 128)])
def test_resnet_depths_and_input_sizes(depth: int, size: int, width: int, embedding: int) -> None:
    model = ResNet(depth, size, in_channels=1, width=width).eval()
    assert model.embedding_size == embedding
    assert model(torch.zeros(2, 1, size, size)).shape == (2, embedding)
    blocks = sum(len(stage) for stage in model.stages)
    assert blocks == {18: 8, 34: 16, 50: 16}[depth]


def test_resnet18_at_paper_width_has_the_papers_size() -> None:
    model = ResNet(18, 224, in_channels=3, width=64)
    # torchvision's resnet18 has 11,689,512 parameters with its 1000-class classifier (513,000)
    assert sum(p.numel() for p in model.parameters()) == 11_689_512 - 513_000


def test_resnet_rejects_unknown_depths() -> None:
    with pytest.raises(ValueError, match='ResNet: depth'):
        ResNet(101)


def test_mesh_gcn_trains_sparse_and_evaluates_dense_alike() -> None:
    from attune.affect.mesh_graph import normalized_adjacency

    torch.manual_seed(0)
    gcn = MeshGCN(torch.from_numpy(normalized_adjacency()), torch.zeros(478, 3), hidden=16, embedding=8, dropout=0.0)
    x = torch.randn(3, 478, 3)
    gcn.train()
    sparse = gcn(x)
    gcn.eval()
    assert torch.allclose(gcn(x), sparse, atol=1e-5)
    with pytest.raises(ValueError, match='MeshGCN'):
        MeshGCN(torch.zeros(4, 4), torch.zeros(5, 3))


def test_fusion_outputs_seven_logits() -> None:
    from attune.affect.mesh_graph import normalized_adjacency

    net = AsdEmotionNet(ResNet(18, 32, 1, 4), MeshGCN(torch.from_numpy(normalized_adjacency()), torch.zeros(478, 3),
                                                     hidden=8, embedding=8)).eval()
    assert net(torch.zeros(3, 1, 32, 32), torch.zeros(3, 478, 3)).shape == (3, 7)
