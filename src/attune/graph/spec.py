"""What runs: the nodes of the attune graph, their executables, parameter files and remappings.

This module is the single description of the graph. The ROS 2 launch file turns each NodeSpec into
a launch_ros Node; `attune up` starts the same specs as processes (or composes them in one), so a
robot PC with ROS 2 and a pip venv run the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from attune.errors import ConfigError
from attune.identity.keys import default_database_path
from attune.resources import config_file

ROBOTS = ('none', 'sim', 'nao', 'generic')


@dataclass(frozen=True)
class GraphArgument:
    """One launch argument (and `attune up` option): name, default, description, choices."""

    name: str
    default: str
    description: str
    choices: tuple[str, ...] = ()


#: The graph's arguments, shared by the launch file (DeclareLaunchArgument) and `attune up` (flags).
GRAPH_ARGUMENTS: tuple[GraphArgument, ...] = (
    GraphArgument('camera_topic', '/camera/image_raw', 'Camera image topic (sensor_msgs/Image).'),
    GraphArgument('image_transport', 'raw', 'raw (sensor_msgs/Image) or compressed (CompressedImage).',
                  ('raw', 'compressed')),
    GraphArgument('robot', 'none', 'Robot to drive: none (perception only), sim, nao or generic; other than '
                  'none it also starts the interaction and behaviour nodes and that robot\'s bridge.', ROBOTS),
    GraphArgument('policy', 'default', 'Behaviour policy: a shipped profile (default, asd_session, '
                  'signing_partner) or a policy YAML file (with robot other than none).'),
    GraphArgument('use_sim_time', 'false', 'Use /clock (bag replay with --clock).', ('true', 'false')),
    GraphArgument('config', '', 'Parameter file (ROS 2 YAML); empty = the installed config/attune.yaml.'),
    GraphArgument('expression', 'true', 'Start the expression node (action units, expression, learner).',
                  ('true', 'false')),
    GraphArgument('spiking_fer', 'false', 'Start the event emulator and the spiking FER node (CS3D on events).',
                  ('true', 'false')),
    GraphArgument('sign', 'false', 'Start hands_node and sign_node (MediaPipe Hands + sign recognition, '
                  '~15 ms of CPU per frame).', ('true', 'false')),
    GraphArgument('asd_emotion', 'auto', 'Start the ASD emotion node (affect per face on /attune/affect, '
                  'the affect after a name call); auto: with the asd_session policy, whose name calls need it.',
                  ('auto', 'true', 'false')),
    GraphArgument('identity', 'auto', 'Start the identity node (known people: person-to-face matches on '
                  '/attune/person_matches); auto: when a people database exists (attune people enroll).',
                  ('auto', 'true', 'false')),
    GraphArgument('rep155', 'true', 'Start hri_bridge_node: faces, expression and action units as REP-155 '
                  '(ROS4HRI) topics under /humans/faces (needs hri_msgs).', ('true', 'false')),
    GraphArgument('participant', '', "The session's participant, an enrolled person (id or name, as `attune "
                  "people list` shows): name calls are measured on their face only (interaction node parameter "
                  "participant; with robot other than none). Empty: any face."),
    GraphArgument('stream_guard', 'false', 'Start the stream guard (live-camera score on /attune/stream_trust: '
                  'replayed, looped, virtual or spliced camera streams; docs/integrity.md).', ('true', 'false')),
)


@dataclass(frozen=True)
class GraphArgs:
    """Values of GRAPH_ARGUMENTS (strings, as launch passes them)."""

    camera_topic: str = '/camera/image_raw'
    image_transport: str = 'raw'
    robot: str = 'none'
    policy: str = 'default'
    use_sim_time: str = 'false'
    config: str = ''
    expression: str = 'true'
    spiking_fer: str = 'false'
    sign: str = 'false'
    asd_emotion: str = 'auto'
    identity: str = 'auto'
    rep155: str = 'true'
    participant: str = ''
    stream_guard: str = 'false'

    def __post_init__(self) -> None:
        for argument in GRAPH_ARGUMENTS:
            value = getattr(self, argument.name)
            if argument.choices and value not in argument.choices:
                raise ConfigError(f"launch argument {argument.name}:={value!r} must be one of "
                                  f"{', '.join(argument.choices)}")

    @property
    def config_path(self) -> Path:
        path = Path(self.config) if self.config else config_file()
        if not path.is_file():
            raise ConfigError(f'parameter file {path} does not exist (launch argument config)')
        return path

    @property
    def sim_time(self) -> bool:
        return self.use_sim_time == 'true'


@dataclass(frozen=True)
class NodeSpec:
    """One node of the graph.

    executable: the program in lib/attune (colcon) and the module attune.nodes.<executable> (pip).
    parameter_files: ROS 2 parameter YAML files, applied in order.
    parameters: overrides applied after the files.
    remappings: (from, to) topic remappings.
    """

    name: str
    executable: str
    package: str = 'attune'
    namespace: str = ''
    parameter_files: tuple[str, ...] = ()
    parameters: tuple[tuple[str, bool | int | float | str], ...] = ()
    remappings: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def module(self) -> str:
        return f'attune.nodes.{self.executable}'

    def ros_arguments(self) -> list[str]:
        """The `--ros-args ...` command-line arguments that give this node its name and parameters."""
        args = ['--ros-args', '-r', f'__node:={self.name}']
        if self.namespace:
            args += ['-r', f'__ns:={self.namespace}']
        for path in self.parameter_files:
            args += ['--params-file', path]
        for name, value in self.parameters:
            args += ['-p', f'{name}:={_yaml_scalar(value)}']
        for src, dst in self.remappings:
            args += ['-r', f'{src}:={dst}']
        return args


def _yaml_scalar(value: bool | int | float | str) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str) and value:
        import yaml

        try:
            plain = yaml.safe_load(value) == value
        except yaml.YAMLError:
            plain = False
        if not plain:  # e.g. a participant named 'Yes' or '007': still a string parameter
            return "'" + value.replace("'", "''") + "'"
    return str(value)


def node_graph(args: GraphArgs | None = None) -> list[NodeSpec]:
    """The nodes to start for these arguments, in start order."""
    args = args or GraphArgs()
    files = (str(args.config_path),)
    common: tuple[tuple[str, bool | int | float | str], ...] = (('use_sim_time', args.sim_time),)
    nodes = [
        NodeSpec(name='face_node', executable='face_node', parameter_files=files,
                 parameters=common + (('image_topic', args.camera_topic),
                                      ('image_transport', args.image_transport))),
    ]
    if args.expression == 'true':
        nodes.append(NodeSpec(name='expression_node', executable='expression_node', parameter_files=files,
                              parameters=common + (('image_topic', args.camera_topic),
                                                   ('image_transport', args.image_transport))))
    if args.sign == 'true':
        nodes += [
            NodeSpec(name='hands_node', executable='hands_node', parameter_files=files,
                     parameters=common + (('image_topic', args.camera_topic),
                                          ('image_transport', args.image_transport))),
            NodeSpec(name='sign_node', executable='sign_node', parameter_files=files, parameters=common),
        ]
    if args.robot != 'none':
        bound = (('participant', args.participant),) if args.participant.strip() else ()
        nodes.append(NodeSpec(name='interaction_node', executable='interaction_node', parameter_files=files,
                              parameters=common + bound))
        nodes.append(NodeSpec(name='behavior_node', executable='behavior_node', parameter_files=files,
                              parameters=common + (('policy', args.policy),)))
        bridge = ROBOT_BRIDGES[args.robot]
        nodes.append(NodeSpec(name=bridge, executable=bridge, parameter_files=files, parameters=common))
    if args.spiking_fer == 'true':
        nodes += [
            NodeSpec(name='event_emulator_node', executable='event_emulator_node', parameter_files=files,
                     parameters=common + (('image_topic', args.camera_topic),
                                          ('image_transport', args.image_transport))),
            NodeSpec(name='spiking_fer_node', executable='spiking_fer_node', parameter_files=files,
                     parameters=common),
        ]
    if args.asd_emotion == 'true' or (args.asd_emotion == 'auto' and args.robot != 'none'
                                      and args.policy == 'asd_session'):
        nodes.append(NodeSpec(name='asd_emotion_node', executable='asd_emotion_node', parameter_files=files,
                              parameters=common + (('image_topic', args.camera_topic),
                                                   ('image_transport', args.image_transport))))
    identity = args.identity == 'true' or (args.identity == 'auto' and default_database_path().is_file())
    if args.participant.strip() and args.robot != 'none' and not identity:
        raise ConfigError(f'participant:={args.participant!r} needs the identity node, which recognises them: '
                          'enrol them (attune people enroll) or set identity:=true')
    if identity:
        nodes.append(NodeSpec(name='identity_node', executable='identity_node', parameter_files=files,
                              parameters=common + (('image_topic', args.camera_topic),
                                                   ('image_transport', args.image_transport))))
    if args.rep155 == 'true':
        nodes.append(NodeSpec(name='hri_bridge_node', executable='hri_bridge_node', parameter_files=files,
                              parameters=common + (('image_topic', args.camera_topic),
                                                   ('image_transport', args.image_transport))))
    if args.stream_guard == 'true':
        nodes.append(NodeSpec(name='stream_guard_node', executable='stream_guard_node', parameter_files=files,
                              parameters=common + (('image_topic', args.camera_topic),
                                                   ('image_transport', args.image_transport))))
    return nodes


#: The bridge node each `robot` value starts.
ROBOT_BRIDGES = {'sim': 'sim_robot_node', 'nao': 'nao_bridge_node', 'generic': 'generic_bridge_node'}
