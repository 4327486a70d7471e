"""The FaceMesh graph: built from MediaPipe's own tesselation, 478 nodes, symmetric, connected."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from mediapipe.python.solutions import face_mesh_connections

from attune.affect import mesh_graph
from attune.models.layers.gcn_conv import gcn_norm


def test_the_graph_is_mediapipes_tesselation_plus_the_iris() -> None:
    edges = {tuple(e) for e in mesh_graph.mesh_edges(478).tolist()}
    tesselation = {tuple(sorted(e)) for e in face_mesh_connections.FACEMESH_TESSELATION}
    assert tesselation <= edges  # every mesh edge MediaPipe draws is in the graph
    extra = edges - tesselation
    assert all(max(e) >= 468 for e in extra)  # and everything else touches an iris point
    assert {(469, 470), (468, 469), (473, 474), (33, 468), (263, 473)} <= extra
    assert len(tesselation) == 1322 and len(edges) == 1322 + 48


@pytest.mark.parametrize('nodes', [478, 468])
def test_adjacency_is_symmetric_connected_and_normalized(nodes: int) -> None:
    a = mesh_graph.adjacency(nodes)
    assert a.shape == (nodes, nodes)
    assert np.array_equal(a, a.T) and not a.diagonal().any()
    assert mesh_graph.connected_components(nodes) == 1
    assert a.sum(axis=1).min() >= 3  # every landmark is in a triangle (or an iris fan)
    a_hat = mesh_graph.normalized_adjacency(nodes)
    assert np.allclose(a_hat, a_hat.T)
    degree = a.sum(axis=1) + 1
    i, j = mesh_graph.mesh_edges(nodes)[0]
    assert a_hat[i, j] == pytest.approx(1 / np.sqrt(degree[i] * degree[j]))
    assert a_hat[5, 5] == pytest.approx(1 / degree[5])
    eigenvalues = np.linalg.eigvalsh(a_hat.astype(np.float64))
    assert eigenvalues.max() == pytest.approx(1.0, abs=1e-5) and eigenvalues.min() > -1.0


def test_the_pyg_style_norm_of_the_edge_index_gives_the_same_matrix() -> None:
    index = torch.from_numpy(mesh_graph.edge_index(478))
    assert index.shape == (2, 2 * len(mesh_graph.mesh_edges(478)))
    assert torch.allclose(gcn_norm(index, 478), torch.from_numpy(mesh_graph.normalized_adjacency(478)), atol=1e-6)


def test_only_facemesh_sizes_are_accepted() -> None:
    with pytest.raises(ValueError, match='468 or 478'):
        mesh_graph.mesh_edges(100)
