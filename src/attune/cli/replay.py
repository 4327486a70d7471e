"""`attune replay BAG`: publish a bag's messages on their topics with the recorded timing.

Like `ros2 bag play` (which is not available from PyPI): raw messages are published as
recorded, reliable QoS. Ctrl-C (SIGINT) or SIGTERM stops playback cleanly. After the last message
it waits (up to ACK_TIMEOUT_S) until reliable subscribers have acknowledged everything, so the
last messages are not lost when the process exits.
"""
from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from attune.errors import BagError

#: Seconds to wait for reliable subscribers to acknowledge the last messages before exiting.
ACK_TIMEOUT_S = 10.0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('replay', help='play a bag on its topics (like ros2 bag play)',
                              description=__doc__)
    p.add_argument('bag', type=Path, help='bag directory (or .mcap file)')
    p.add_argument('--rate', type=float, default=1.0, help='speed factor, e.g. 0.5 = half speed (default: 1)')
    p.add_argument('--loop', action='store_true', help='play again and again until stopped')
    p.add_argument('--topics', nargs='+', metavar='TOPIC', default=None, help='only these topics')
    p.add_argument('--clock', action='store_true', help='publish /clock with the bag time (for use_sim_time)')
    p.add_argument('--delay', type=float, default=1.0, metavar='S',
                   help='seconds to wait before the first message, so subscribers can connect '
                        '(default: %(default)s)')
    p.add_argument('--wait-for-subscribers', type=int, default=0, metavar='N',
                   help='first wait (up to 60 s) until every topic has N subscribers')
    p.set_defaults(handler=replay)


@contextmanager
def stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Call stop() on SIGINT and SIGTERM while in the block (main thread only), then restore.

    stop() runs on a new thread, not in the handler itself: a handler interrupts the main thread
    anywhere, possibly while it holds a lock that stop() needs (threading.Event's own, say).
    """
    def handler(signum: int, frame: object) -> None:
        threading.Thread(target=stop, name=f'stop-on-signal-{signum}', daemon=True).start()

    try:
        previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: signals stay as they are
        yield
        return
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def replay(ns: argparse.Namespace) -> int:
    import rclpy
    from rclpy.context import Context
    from rclpy.node import Node

    from attune.ros.player import BagPlayer

    if not ns.rate > 0:
        raise BagError(f'--rate must be positive, got {ns.rate}')
    stopped = threading.Event()
    players: list[BagPlayer] = []

    def stop() -> None:
        stopped.set()
        for player in players:
            player.stop()

    # Our handlers before anything of ROS starts, so a Ctrl-C during start-up stops the replay too.
    with stop_on_signals(stop):
        context = Context()
        rclpy.init(context=context)  # own context: no rclpy signal handlers, ours stop the player
        try:
            node = Node('attune_replay', context=context)
            try:
                with BagPlayer(node, ns.bag, rate=ns.rate, loop=ns.loop, topics=ns.topics, clock=ns.clock,
                               delay_s=max(0.0, ns.delay), wait_for_subscribers=ns.wait_for_subscribers,
                               subscriber_timeout_s=60.0) as player:
                    players.append(player)
                    if stopped.is_set():  # a signal before the player existed
                        player.stop()
                    topics = ', '.join(player.topics)
                    print(f'playing {ns.bag} at rate {ns.rate:g}{" in a loop" if ns.loop else ""}: {topics}',
                          flush=True)
                    count = player.play()
                    acknowledged = player.stopped or player.wait_for_acknowledgements(ACK_TIMEOUT_S)
                    if not acknowledged and not player.stopped:
                        print(f'note: not every reliable subscriber acknowledged the last messages within '
                              f'{ACK_TIMEOUT_S:g} s', flush=True)
                    print(f'published {count} messages{" (stopped)" if player.stopped else ""}', flush=True)
            finally:
                node.destroy_node()
        finally:
            rclpy.try_shutdown(context=context)
    return 0
