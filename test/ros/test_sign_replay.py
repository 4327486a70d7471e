"""Acceptance test of issue 6: a real video replayed through hands_node -> sign_node -> attune/Sign.

test_video.mp4 (58 frames, 30 fps, a person signing with motion blur) -> video_to_bag -> BagPlayer ->
hands_node and sign_node (separate processes, as deployed) -> /attune/hands, /attune/sign ->
BagRecorder. Checked: one Hands per image with the image's stamp, hands found while the person
signs, and Sign messages whose stamps are those of input images, in order (start <= end <= decision).
The vocabulary (ASL letters) is not what this person signs, so the glosses are not checked; the
thresholds are lowered (0.5 / 0.3) so that the isolated path publishes too.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from attune.bag import read_messages, video_to_bag
from attune.demo.session import wait_until_quiet
from test.conftest import shared_data, wait_for
from test.ros.replay_pacing import node_subscribes

pytestmark = [pytest.mark.ros, pytest.mark.slow]

#: The test's own camera topic: no other test's node (or its ghost) listens on it.
IMAGES = '/test_sign_replay/image_raw'
NODES = {
    'hands_node': ['-p', 'reliable_input:=true', '-p', 'input_queue_depth:=100', '-p', f'image_topic:={IMAGES}'],
    'sign_node': ['-p', 'on_threshold:=0.5', '-p', 'off_threshold:=0.3', '-p', 'min_frames:=3',
                  '-p', "expression_topic:=''", '-p', "faces_topic:=''"],
}


@pytest.fixture
def nodes(tmp_path):
    processes = {}
    for name, args in NODES.items():
        log = (tmp_path / f'{name}.log').open('w+')
        processes[name] = (subprocess.Popen([sys.executable, '-m', f'attune.nodes.{name}', '--ros-args', *args],
                                            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ)), log)
    yield processes
    for process, log in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def logs(processes) -> str:
    text = []
    for name, (_, log) in processes.items():
        log.flush()
        log.seek(0)
        text.append(f'--- {name}\n{log.read()[-2000:]}')
    return '\n'.join(text)


def test_replayed_video_flows_through_hands_and_sign_nodes(tmp_path, spinner, nodes) -> None:
    from rclpy.node import Node

    from attune.ros.player import BagPlayer
    from attune.ros.recorder import BagRecorder

    video = video_to_bag(shared_data('video', 'sign', 'test_video.mp4'), tmp_path / 'video', camera_info=False,
                         topic=IMAGES)
    assert video.frames == 58
    image_stamps = list(video.stamps_ns)
    node = spinner.add(Node('sign_replay_test'))
    # The sign node creates its /attune/sign publisher when it configures (models loaded) but its /attune/hands
    # subscription only when it activates: wait for that subscription itself, or a loaded machine replays the
    # clip before the sign node listens and every Hands message is lost to it.
    def both_listen() -> bool:
        return node_subscribes(node, '/attune/hands', 'sign_node') and node_subscribes(node, IMAGES, 'hands_node')

    ready = wait_for(lambda: (both_listen() and node.count_publishers('/attune/hands') > 0)
                     or any(p.poll() is not None for p, _ in nodes.values()), timeout=90)
    assert ready and all(p.poll() is None for p, _ in nodes.values()), logs(nodes)
    player = BagPlayer(node, video.path, rate=1.0, wait_for_subscribers=1, subscriber_timeout_s=30)
    with BagRecorder(node, tmp_path / 'out', ['/attune/hands', '/attune/sign']) as recorder:
        player.play()  # 58 images: inside the hands node's 100-image queue, no back-pressure needed
        hands_count = lambda: recorder.counts.get('/attune/hands', 0)  # noqa: E731
        wait_until_quiet(hands_count, len(image_stamps), timeout=60, quiet_s=10.0)
        # A sign is published when its hysteresis ends, after the Hands that closed it: wait for quiet.
        wait_until_quiet(lambda: recorder.message_count, 10**9, timeout=15, quiet_s=3.0)
    player.close()

    hands = [m.deserialize() for m in read_messages(tmp_path / 'out', ['/attune/hands'])]
    signs = [m.deserialize() for m in read_messages(tmp_path / 'out', ['/attune/sign'])]
    stamp = lambda t: t.sec * 1_000_000_000 + t.nanosec  # noqa: E731
    assert [stamp(m.header.stamp) for m in hands] == image_stamps, logs(nodes)  # one Hands per image, in order
    assert sum(1 for m in hands if m.hands) >= 15, logs(nodes)
    assert all(h.handedness in ('left', 'right') and len(h.landmarks) == 63 for m in hands for h in m.hands)
    assert 1 <= len(signs) <= 6, (signs, logs(nodes))  # hysteresis: a few signs, not one per frame
    for sign in signs:
        assert stamp(sign.header.stamp) in image_stamps
        assert stamp(sign.start) <= stamp(sign.end) <= stamp(sign.header.stamp)
        assert sign.gloss and sign.top_glosses[0] == sign.gloss and sign.handedness in ('left', 'right', 'both')
        assert sign.mode in (0, 1) and (sign.mode == 0) == (len(sign.sequence) == 0)
    for name, (process, _) in nodes.items():
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0, f'{name}\n{logs(nodes)}'
