#!/usr/bin/env python3
"""One "host" of a split attune graph, run inside a network namespace by bench/hosts.py.

    python bench/host_run.py perception --camera-topic T --video V [--frames N] [--fps F]
    python bench/host_run.py robot
    python bench/host_run.py discovery-server --address IP:PORT

perception: starts face_node and expression_node (the specs of attune.graph.node_graph), waits until
  they subscribe and the robot host's readers are discovered, then publishes at --fps as the camera:
  an empty scene (grey frames) from the line "go" on stdin, the face clip from the line "face". Image
  stamps are the wall clock at publish time (namespaces on one machine share it), so the receiving host
  can measure latency from them.
robot: starts interaction_node, behavior_node and sim_robot_node, and reports every /attune/faces,
  /attune/interaction_state and /attune/behavior/command it receives as one JSON line on stdout
  (stamp, receive time).
discovery-server: a Fast DDS Discovery Server (SERVER participant listening on IP:PORT), configured by
  an XML profile; the installed wheels ship no working `fastdds discovery` command.
Every role prints `{"event": "ready"}` once its nodes are up and (perception, robot) the other host's
endpoints are discovered; stdin closing or SIGTERM stops it.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'bench'))

ROLE_NODES = {'perception': ('face_node', 'expression_node'),
              'robot': ('interaction_node', 'behavior_node', 'sim_robot_node')}
# Readers of /attune/faces on the robot host: interaction_node and the probe (expression_node is the
# perception host's own reader).
REMOTE_FACES_READERS = 2

SERVER_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<dds xmlns="http://www.eprosima.com"><profiles>
  <participant profile_name="attune_discovery_server" is_default_profile="true"><rtps>
    <builtin><discovery_config><discoveryProtocol>SERVER</discoveryProtocol></discovery_config>
      <metatrafficUnicastLocatorList><locator><udpv4>
        <address>{address}</address><port>{port}</port>
      </udpv4></locator></metatrafficUnicastLocatorList>
    </builtin>
  </rtps></participant>
</profiles></dds>
"""


def emit(event: str, **fields: object) -> None:
    print(json.dumps({'event': event, **fields}), flush=True)


def stop_on_stdin_close(stop: threading.Event) -> None:
    def watch() -> None:
        sys.stdin.read()
        stop.set()
    threading.Thread(target=watch, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())


def start_nodes(role: str, camera_topic: str):
    from attune.graph import GraphArgs, node_graph
    from attune.graph.runner import start_processes

    specs = [s for s in node_graph(GraphArgs(robot='sim', camera_topic=camera_topic))
             if s.name in ROLE_NODES[role]]
    return start_processes(specs, output=sys.stderr)


def run_discovery_server(address: str, stop: threading.Event) -> None:
    ip, port = address.rsplit(':', 1)
    profile = Path(tempfile.mkdtemp(prefix='attune_ds_')) / 'server.xml'
    profile.write_text(SERVER_PROFILE.format(address=ip, port=int(port)))
    os.environ['FASTDDS_DEFAULT_PROFILES_FILE'] = str(profile)
    os.environ.pop('ROS_DISCOVERY_SERVER', None)
    import rclpy

    rclpy.init()
    node = rclpy.create_node('attune_discovery_server')
    emit('ready')
    while not stop.is_set():
        rclpy.spin_once(node, timeout_sec=0.1)
    node.destroy_node()
    rclpy.try_shutdown()


def run_perception(node, args: argparse.Namespace, stop: threading.Event) -> None:
    import rclpy
    from builtin_interfaces.msg import Time
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    from attune.ros.images import image_msg
    from attune.ros.stamps import from_ns
    from face_pipeline import load_frames

    frames = load_frames(args.video, args.frames)
    camera = node.create_publisher(Image, args.camera_topic, qos_profile_sensor_data)
    # Ready when this host's nodes are up and the robot host's readers are known here: otherwise the
    # first frames' results go nowhere while discovery across the link is still running, and the
    # first reaction would measure discovery, not latency.
    while not stop.is_set() and not (camera.get_subscription_count() >= 2
                                     and node.count_publishers('/attune/expression') >= 1
                                     and node.count_subscribers('/attune/faces') >= REMOTE_FACES_READERS + 1
                                     and node.count_subscribers('/attune/expression') >= 1):
        rclpy.spin_once(node, timeout_sec=0.1)
    emit('ready', frames=len(frames))
    # The driver's lines on stdin: "go" starts the camera on an empty scene (a uniform grey frame, no
    # face), "face" starts the clip: a person steps in once the whole graph is running, as in a
    # session. stdin closing stops the host.
    go, face = threading.Event(), threading.Event()

    def read_commands() -> None:
        for line in sys.stdin:
            {'go': go, 'face': face}.get(line.strip(), threading.Event()).set()
        stop.set()
    threading.Thread(target=read_commands, daemon=True).start()
    while not stop.is_set() and not go.wait(0.1):
        pass
    empty_scene = np.full_like(frames[0], 128)
    start = time.monotonic()
    tick = 0
    i = 0
    while not stop.is_set():
        due = start + tick / args.fps
        while not stop.is_set() and time.monotonic() < due:
            time.sleep(min(0.005, max(0.0, due - time.monotonic())))
        tick += 1
        stamp = time.time_ns()
        header = Header(stamp=from_ns(stamp, Time), frame_id='camera')
        if not face.is_set():
            camera.publish(image_msg(empty_scene, 'rgb8', header))
            emit('empty_image', stamp_ns=stamp)
            continue
        camera.publish(image_msg(frames[i % len(frames)], 'rgb8', header))
        emit('image', stamp_ns=stamp, index=i)
        i += 1


def run_robot(node, stop: threading.Event) -> None:
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    from attune.msg import BehaviorCommand, Faces, InteractionState
    from attune.ros.stamps import to_ns

    qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    node.create_subscription(Faces, '/attune/faces', lambda m: emit(
        'faces', stamp_ns=to_ns(m.header.stamp), recv_ns=time.time_ns(), faces=len(m.faces)), qos)
    node.create_subscription(BehaviorCommand, '/attune/behavior/command', lambda m: emit(
        'command', stamp_ns=to_ns(m.header.stamp), recv_ns=time.time_ns(), action=int(m.action)), qos)
    node.create_subscription(InteractionState, '/attune/interaction_state', lambda m: emit(
        'state', stamp_ns=to_ns(m.header.stamp), recv_ns=time.time_ns()), qos)
    from std_msgs.msg import String

    from attune.nodes.sim_robot_node import ACTIVITY_TOPIC

    node.create_subscription(String, ACTIVITY_TOPIC, lambda m: emit(
        'robot_activity', recv_ns=time.time_ns(), text=m.data[:200]), qos)
    # The interaction node's status turns from "no input" (WARN) to OK once Faces from the other host
    # reach it: the driver waits for this before the person steps in.
    fusing = threading.Event()

    def on_diagnostics(msg: DiagnosticArray) -> None:
        if not fusing.is_set() and any(s.name.startswith('interaction_node') and s.level == DiagnosticStatus.OK
                                       for s in msg.status):
            fusing.set()
            emit('interaction_input', recv_ns=time.time_ns())
    node.create_subscription(DiagnosticArray, '/diagnostics', on_diagnostics, qos)
    # Ready when this host's nodes are up and the perception host's publishers are known here.
    while not stop.is_set() and not (node.count_subscribers('/attune/behavior/command') >= 2
                                     and node.count_publishers('/attune/faces') >= 1
                                     and node.count_publishers('/attune/expression') >= 1):
        rclpy.spin_once(node, timeout_sec=0.1)
    emit('ready')
    while not stop.is_set():
        rclpy.spin_once(node, timeout_sec=0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('role', choices=('perception', 'robot', 'discovery-server'))
    parser.add_argument('--camera-topic', default='/hosts/image_raw')
    parser.add_argument('--video', type=Path, default=Path(os.environ.get(
        'ATTUNE_HOSTS_VIDEO', REPO.parent / 'shared' / 'data' / 'video')), help='folder like ../shared/data/video/')
    parser.add_argument('--frames', type=int, default=150, help='frames of the clip to loop')
    parser.add_argument('--fps', type=float, default=30.0)
    parser.add_argument('--address', default='', help='discovery-server: IP:PORT to listen on')
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.role == 'discovery-server':
        stop_on_stdin_close(stop)
        run_discovery_server(args.address, stop)
        return 0
    from attune.graph.runner import stop_processes
    from attune.ros.dds import use_attune_dds_profile

    use_attune_dds_profile()
    processes = start_nodes(args.role, args.camera_topic)
    if os.environ.get('ROS_DISCOVERY_SERVER'):
        # A plain Discovery Server client only learns the endpoints it matches with; the probe counts
        # the graph's other endpoints, so it must see everything (the nodes above stay plain clients).
        os.environ['ROS_SUPER_CLIENT'] = 'TRUE'
    import rclpy

    rclpy.init()
    node = rclpy.create_node(f'hosts_{args.role}_probe')
    try:
        if args.role == 'perception':
            run_perception(node, args, stop)
        else:
            stop_on_stdin_close(stop)
            run_robot(node, stop)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        stop_processes(processes, grace_s=5.0)
    return 0


if __name__ == '__main__':
    sys.exit(main())
