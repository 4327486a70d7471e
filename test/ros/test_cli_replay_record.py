"""`attune replay` and `attune record`: real DDS, own rclpy contexts, clean stops on signals."""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator

import pytest

from attune.bag import bag_topics, frames_to_bag, read_messages
from test.bag.synthetic import random_frames
from test.conftest import wait_for

pytestmark = pytest.mark.ros

# A camera topic of this module's own. `/camera/image_raw` is every node's default input: a node process
# of an earlier test that exited without its DDS participant's goodbye stays matched to a publisher until
# its lease ends (seconds), so "one subscriber matched" could be that ghost, playback started before the
# recorder had matched, and its first frames were lost (CI, 2026-11-30).
IMAGE = f'/cli_record_{uuid.uuid4().hex[:8]}/image_raw'


def cli(*modules: str) -> argparse.ArgumentParser:
    """A parser with only the given attune.cli modules (main's parser also needs the others)."""
    import importlib

    parser = argparse.ArgumentParser(prog='attune')
    sub = parser.add_subparsers()
    for name in modules:
        importlib.import_module(f'attune.cli.{name}').add_parser(sub)
    return parser


@contextlib.contextmanager
def signal_once_handled(signum: int, after_s: float = 0.3) -> Iterator[None]:
    """Within the block, send signum to this process once a command has installed its own handler
    for it (never earlier: pytest's default handlers would end the test run), however long that
    takes on a loaded machine; a command only these signals end must run in the block."""
    original = signal.getsignal(signum)
    done = threading.Event()

    def send() -> None:
        while signal.getsignal(signum) is original:
            if done.wait(0.01):
                return
        if not done.wait(after_s):
            os.kill(os.getpid(), signum)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


@pytest.fixture
def camera_bag(tmp_path):
    return frames_to_bag(random_frames(10, 16, 16), tmp_path / 'camera', fps=20.0, start_ns=0, topic=IMAGE).path


def test_replay_command_publishes_the_bag(tmp_path, spinner, camera_bag, capsys) -> None:
    from rclpy.node import Node

    from attune.ros.recorder import BagRecorder

    node = spinner.add(Node('cli_replay_listener'))
    types = {IMAGE: 'sensor_msgs/msg/Image'}
    # Reliable: the replay starts once ITS side has matched the subscription; a message that arrives
    # before this side has matched the replay's publisher is resent, not dropped. The replay returns
    # once every message is acknowledged, so all ten have arrived when it does.
    with BagRecorder(node, tmp_path / 'out', types, reliable=True) as recorder:
        args = cli('replay').parse_args(['replay', str(camera_bag), '--topics', IMAGE, '--rate', '2',
                                         '--delay', '0', '--wait-for-subscribers', '1'])
        assert args.handler(args) == 0
        assert wait_for(lambda: recorder.message_count == 10, timeout=60)  # written by the spinner
    out = capsys.readouterr().out
    assert 'published 10 messages' in out and 'acknowledged' not in out
    played = [m.data for m in read_messages(camera_bag, [IMAGE])]
    assert [m.data for m in read_messages(tmp_path / 'out')] == played


def test_replay_command_stops_on_sigint(camera_bag, capsys) -> None:
    """A looping replay ends only when stopped: returning at all is the stop (no wall-time bound,
    which a loaded machine's context start-up alone exceeded)."""
    args = cli('replay').parse_args(['replay', str(camera_bag), '--loop', '--delay', '0'])
    with signal_once_handled(signal.SIGINT, after_s=1.0):
        assert args.handler(args) == 0
    assert '(stopped)' in capsys.readouterr().out


def test_record_command_is_cancelled_by_a_signal_while_waiting_for_topics(tmp_path) -> None:
    from attune.errors import BagError

    # No discovery deadline: only the signal can end the wait (no wall-time bound needed to tell).
    args = cli('record').parse_args(['record', str(tmp_path / 'out'), '--topics', '/nobody/publishes',
                                     '--discovery-timeout', '0'])
    with signal_once_handled(signal.SIGTERM), \
            pytest.raises(BagError, match='cancelled while waiting for /nobody/publishes'):
        args.handler(args)
    assert not (tmp_path / 'out').exists()


def test_a_signal_while_ros_starts_up_still_stops_the_recorder(tmp_path) -> None:
    """Ctrl-C during rclpy's start-up (here: sent from inside rclpy.init) is a stop like any other: the
    recorder gives up its wait for topics and says so. Before, it was a KeyboardInterrupt traceback from
    inside rclpy.init, and once in CI a SIGINT sent that early was lost and the recorder ran on."""
    script = ('import os, signal, sys, argparse, rclpy\n'
              'real_init = rclpy.init\n'
              'def init_interrupted(*a, **k):\n'
              '    os.kill(os.getpid(), signal.SIGINT)\n'
              '    return real_init(*a, **k)\n'
              'rclpy.init = init_interrupted\n'
              'from attune.cli import record\n'
              'p = argparse.ArgumentParser(); record.add_parser(p.add_subparsers())\n'
              'a = p.parse_args(sys.argv[1:]); sys.exit(a.handler(a))\n')
    try:
        result = subprocess.run([sys.executable, '-c', script, 'record', str(tmp_path / 'out'), '--topics',
                                 '/nobody/publishes', '--discovery-timeout', '0'],
                                capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f'the signal was lost: attune record still waited 120 s later ({exc.output!r})')
    assert 'cancelled while waiting for /nobody/publishes' in result.stderr + result.stdout, result
    assert 'KeyboardInterrupt' not in result.stderr


def test_record_command_with_duration(tmp_path, spinner) -> None:
    """--duration ends the recording by itself and finishes the bag.

    Counted in the player's /clock time (--use-sim-time): the window holds the start of the bag however
    loaded the machine. Two seconds of wall time held 0 of 10 frames on a starved machine (the player
    itself got to publish 19 frames in 18 s), so a wall-time window cannot promise any frame."""
    from rclpy.node import Node

    from attune.ros.player import BagPlayer

    start_ns = 1000 * 10**9
    bag = frames_to_bag(random_frames(200, 16, 16), tmp_path / 'camera', fps=20.0, start_ns=start_ns,
                        topic=IMAGE).path
    player = BagPlayer(spinner.add(Node('cli_record_player')), bag, topics=[IMAGE], clock=True,
                       wait_for_subscribers=1, subscriber_timeout_s=120)
    thread = threading.Thread(target=player.play)
    thread.start()
    args = cli('record').parse_args(['record', str(tmp_path / 'out'), '--topics', IMAGE, '--duration', '1',
                                     '--use-sim-time', '--reliable', '--discovery-timeout', '120'])
    try:
        assert args.handler(args) == 0
    finally:
        player.stop()
        thread.join(5)
    topics = bag_topics(tmp_path / 'out')
    assert list(topics) == [IMAGE] and topics[IMAGE][0] == 'sensor_msgs/msg/Image'
    recorded = list(read_messages(tmp_path / 'out'))
    frames = [m.data for m in read_messages(bag, [IMAGE])]
    # From the first frame on: the player waited for the subscription, and reliable loses none. The
    # handler returned by itself, so the duration stopped it (about 20 frames: 1 s of clock).
    assert recorded
    assert [m.data for m in recorded] == frames[:len(recorded)]
    assert all(start_ns <= m.timestamp_ns <= start_ns + 10 * 10**9 for m in recorded)  # stamped in /clock time


def test_record_command_finishes_the_bag_on_sigint(tmp_path, spinner, camera_bag) -> None:
    """As a separate process, stopped like Ctrl-C once it has acknowledged all ten images (not a
    fixed time after they were sent): the bag is complete and readable."""
    from rclpy.node import Node

    from attune.ros.player import BagPlayer

    out = tmp_path / 'out'
    script = ('import sys, argparse; from attune.cli import record; p = argparse.ArgumentParser(); '
              'record.add_parser(p.add_subparsers()); a = p.parse_args(sys.argv[1:]); sys.exit(a.handler(a))')
    player = BagPlayer(spinner.add(Node('cli_sigint_player')), camera_bag, topics=[IMAGE],
                       wait_for_subscribers=1, subscriber_timeout_s=120)
    # No discovery deadline: how long a process takes to start and see the player is the machine's
    # business (10 s did not do on a loaded machine); the player's wait for its subscription guards.
    process = subprocess.Popen([sys.executable, '-c', script, 'record', str(out), '--topics', IMAGE,
                                '--reliable', '--discovery-timeout', '0'],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=dict(os.environ))
    try:
        assert player.play() == 10
        assert player.wait_for_acknowledgements(60), 'the recorder did not acknowledge the images'
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # never leave it running: it would stay matched to later tests
            process.kill()
            output = process.communicate()[0]
            pytest.fail(f'attune record did not stop within 60 s of SIGINT; its output:\n{output}')
    assert process.returncode == 0, output
    assert 'wrote' in output
    assert bag_topics(out) == {IMAGE: ('sensor_msgs/msg/Image', 10)}
