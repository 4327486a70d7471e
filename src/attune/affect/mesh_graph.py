"""The FaceMesh graph: MediaPipe's own triangle mesh as edges, and its normalized adjacency (no rclpy).

Nodes are FaceMesh landmarks: 468 mesh points, plus 10 iris points when FaceMesh refines landmarks
(478). Edges are the 2556 edges of MediaPipe's tesselation
(`mediapipe.python.solutions.face_mesh_connections.FACEMESH_TESSELATION`, the triangles drawn by
MediaPipe's own face-mesh renderer), made undirected.

The iris points are not part of the tesselation. They join the graph so (decision, see
docs/asd_emotion.md): each iris ring (469-472 right eye, 474-477 left eye) is a cycle, as in
MediaPipe's FACEMESH_*_IRIS connections; each iris centre (468, 473) is joined to its four ring points
and to the 16 contour points of its own eye (FACEMESH_RIGHT_EYE / FACEMESH_LEFT_EYE), so where the
iris sits inside the eye opening (gaze) reaches the rest of the face in one step.

The GCN uses the normalized adjacency of Kipf & Welling (2017), A_hat = D^-1/2 (A + I) D^-1/2
(`attune.models.layers.gcn_conv.gcn_norm` computes the same from an edge index).
"""
from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

MESH_POINTS = 468
REFINED_POINTS = 478
#: Iris centre and ring of each eye (image right = the person's right eye, MediaPipe's naming).
RIGHT_IRIS_CENTER, RIGHT_IRIS_RING = 468, (469, 470, 471, 472)
LEFT_IRIS_CENTER, LEFT_IRIS_RING = 473, (474, 475, 476, 477)


Edges = frozenset[tuple[int, int]]


def _connections(name: str) -> Edges:
    """One of MediaPipe's FACEMESH_* connection sets (pairs of landmark indices), by name."""
    from mediapipe.python.solutions import face_mesh_connections

    return frozenset(getattr(face_mesh_connections, name))


@cache
def tesselation_edges() -> npt.NDArray[np.int64]:
    """MediaPipe's tesselation as unique undirected edges (E, 2) int64, i < j, sorted."""
    pairs = np.array(sorted(_connections('FACEMESH_TESSELATION')), dtype=np.int64)
    return _unique_undirected(pairs)


@cache
def iris_edges() -> npt.NDArray[np.int64]:
    """The edges that join the 10 iris points to the mesh (see the module docstring), (E, 2) int64."""
    pairs = [*_connections('FACEMESH_RIGHT_IRIS'), *_connections('FACEMESH_LEFT_IRIS')]
    for center, ring, eye in ((RIGHT_IRIS_CENTER, RIGHT_IRIS_RING, _connections('FACEMESH_RIGHT_EYE')),
                              (LEFT_IRIS_CENTER, LEFT_IRIS_RING, _connections('FACEMESH_LEFT_EYE'))):
        pairs += [(center, r) for r in ring]
        pairs += [(center, p) for p in sorted({p for edge in eye for p in edge})]
    return _unique_undirected(np.array(pairs, dtype=np.int64))


def mesh_edges(num_nodes: int = REFINED_POINTS) -> npt.NDArray[np.int64]:
    """Undirected edges (E, 2) of the graph over `num_nodes` landmarks (468 or 478), i < j."""
    if num_nodes not in (MESH_POINTS, REFINED_POINTS):
        raise ValueError(f'the FaceMesh graph has 468 or 478 nodes, not {num_nodes}')
    edges = tesselation_edges()
    if num_nodes == REFINED_POINTS:
        edges = _unique_undirected(np.concatenate([edges, iris_edges()]))
    return edges


def edge_index(num_nodes: int = REFINED_POINTS) -> npt.NDArray[np.int64]:
    """Both directions of every edge, PyG's `edge_index` layout: (2, 2E) int64 (source row, target row)."""
    edges = mesh_edges(num_nodes)
    return np.concatenate([edges, edges[:, ::-1]]).T.copy()


def adjacency(num_nodes: int = REFINED_POINTS) -> npt.NDArray[np.float32]:
    """The binary symmetric adjacency (N, N) float32, zero diagonal."""
    a = np.zeros((num_nodes, num_nodes), dtype=np.float32)
    edges = mesh_edges(num_nodes)
    a[edges[:, 0], edges[:, 1]] = 1.0
    a[edges[:, 1], edges[:, 0]] = 1.0
    return a


def normalized_adjacency(num_nodes: int = REFINED_POINTS) -> npt.NDArray[np.float32]:
    """A_hat = D^-1/2 (A + I) D^-1/2, (N, N) float32, symmetric, eigenvalues in (-1, 1]."""
    a = adjacency(num_nodes).astype(np.float64) + np.eye(num_nodes)
    d = 1.0 / np.sqrt(a.sum(axis=1))
    out: npt.NDArray[np.float32] = (a * d[:, None] * d[None, :]).astype(np.float32)
    return out


def connected_components(num_nodes: int = REFINED_POINTS) -> int:
    """How many connected components the graph has (1: every landmark reaches every other)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as components

    edges = mesh_edges(num_nodes)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(num_nodes, num_nodes))
    return int(components(graph, directed=False)[0])


def _unique_undirected(pairs: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    ordered = np.sort(pairs, axis=1)
    return np.unique(ordered, axis=0)
