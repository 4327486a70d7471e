"""The graph split over two hosts: two network namespaces on this machine, joined by a veth pair.

The perception host (camera playing a real face clip, face_node, expression_node) and the robot host
(interaction, behaviour and sim robot nodes) each have their own network and their own /dev/shm, so
Fast DDS must discover across the link and carry the traffic over UDP, as between a laptop and a
robot. Checked with default discovery (ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET) and with a Fast DDS
Discovery Server (ROS_DISCOVERY_SERVER). Needs root and iproute2; skips with the reason elsewhere.
Latency across hosts is measured by bench/two_hosts.py, not asserted here.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from test.conftest import shared_data

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'bench'))
import hosts  # noqa: E402

pytestmark = pytest.mark.skipif(hosts.unavailable_reason() is not None,
                                reason=f'two-host test: {hosts.unavailable_reason()}')


@pytest.mark.parametrize('discovery', ['default', 'server'])
def test_faces_from_the_perception_host_drive_commands_on_the_robot_host(discovery, tmp_path):
    pytest.importorskip('rclpy')
    shared_data('video', 'faces')
    log = (tmp_path / 'hosts.log').open('w')
    with hosts.Namespaces() as namespaces:
        before = namespaces.received_bytes('robot')
        run = hosts.run_split_graph(namespaces, discovery, 'two_hosts', seconds=0.0, log=log)
        crossed = namespaces.received_bytes('robot') - before
    faces = [e for e in run['events'] if e['event'] == 'faces']
    reaction = hosts.first_reaction(run['events'])
    # The robot host heard the perception host's results for frames the camera really sent ...
    assert faces, f'no /attune/faces reached the robot host (log: {log.name})'
    assert all(e['stamp_ns'] >= run['first_image_ns'] for e in faces)
    assert any(e['faces'] > 0 for e in faces), 'the face clip gave no face on the robot host'
    # ... and its behaviour node turned them into commands, which the robot bridge side received.
    assert reaction is not None, 'no behaviour command after a face on the robot host'
    assert reaction['recv_ns'] >= run['first_image_ns']
    assert crossed > 10_000, f'only {crossed} bytes crossed the veth link: the hosts did not talk over the network'
