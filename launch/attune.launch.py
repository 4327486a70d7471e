"""Launch the attune graph on a ROS 2 install:

    ros2 launch attune attune.launch.py camera_topic:=/camera/image_raw robot:=nao

The nodes come from attune.graph.node_graph(), the same description `attune up` starts where the
launch package does not exist (pip installs); test/graph/test_launch_matches_up.py checks both agree.
"""
from attune.graph import GRAPH_ARGUMENTS, GraphArgs, NodeSpec, node_graph


def describe(arguments: dict[str, str]) -> list[NodeSpec]:
    """The node specs for launch-argument values (pure; no launch imports)."""
    return node_graph(GraphArgs(**{a.name: arguments.get(a.name, a.default) for a in GRAPH_ARGUMENTS}))


def generate_launch_description():
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, OpaqueFunction
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    def nodes(context, *_args, **_kwargs):
        values = {a.name: LaunchConfiguration(a.name).perform(context) for a in GRAPH_ARGUMENTS}
        return [
            Node(package=spec.package, executable=spec.executable, name=spec.name,
                 namespace=spec.namespace or None,
                 parameters=[*spec.parameter_files, dict(spec.parameters)],
                 remappings=list(spec.remappings), output='screen', emulate_tty=True)
            for spec in describe(values)
        ]

    declared = [DeclareLaunchArgument(a.name, default_value=a.default, description=a.description,
                                      choices=list(a.choices) or None)
                for a in GRAPH_ARGUMENTS]
    return LaunchDescription([*declared, OpaqueFunction(function=nodes)])
