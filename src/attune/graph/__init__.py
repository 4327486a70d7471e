"""The attune node graph, described once (no rclpy, no launch): launch/attune.launch.py and
`attune up` both build their graph from `node_graph()`."""
from attune.graph.spec import GRAPH_ARGUMENTS, GraphArgs, GraphArgument, NodeSpec, node_graph

__all__ = ['GRAPH_ARGUMENTS', 'GraphArgs', 'GraphArgument', 'NodeSpec', 'node_graph']
