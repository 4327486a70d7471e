"""Replaying a bag into nodes that may answer slower than real time, without losing images.

Why: the player publishes at the bag's rate whatever the nodes do. On a machine loaded far beyond its cores
(load 8-13 on 2) the face node answered ~20 fps of a 30 fps replay, so its reliable input queue (100 images)
overflowed and the oldest images were dropped (293-308 Faces for 354 images), and a short quiet period
ended the wait for answers while a starved node was still working. These tests are about what the nodes
say, not their throughput: the player pauses while MAX_BACKLOG images are unanswered, well inside the
nodes' input queue, and the wait ends when every image is answered.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_BACKLOG = 40
STALL_S = 5.0


def node_subscribes(node, topic: str, node_name: str) -> bool:
    """Whether the node named node_name has a subscription on topic, as `node` sees the graph.

    Wait for this, not for a subscriber count, before playing: a count can be met by a "ghost", the
    subscription of an earlier test's node process that has exited but whose DDS participant is still
    matched until its lease runs out, and the images played meanwhile are lost to the node under test.
    Nodes subscribe to their input when they activate, after they have created their publishers.
    """
    return any(info.node_name == node_name for info in node.get_subscriptions_info_by_topic(topic))


def play_with_backpressure(player, answered: Callable[[], int], *, messages_per_image: int = 1,
                           max_backlog: int = MAX_BACKLOG, timeout: float = 180.0) -> int:
    """Run player.play() in a thread, pausing it while `max_backlog` images are unanswered; return what
    play() returned. answered(): images answered so far (each node answers every image once).
    messages_per_image: messages the bag holds per image (2 with its CameraInfo). After `timeout` the
    player runs free: a node that stopped answering then fails the test's own counts."""
    played: list[int] = []
    thread = threading.Thread(target=lambda: played.append(player.play()), daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    last_answered, last_progress = answered(), time.monotonic()
    while thread.is_alive():
        now, done = time.monotonic(), answered()
        if done != last_answered:
            last_answered, last_progress = done, now
        # Images lost before the node listened are never answered: a node that has answered nothing for
        # STALL_S while the player waits is not working off a backlog, so the player goes on.
        waiting_helps = now - last_progress < STALL_S and now < deadline
        if player.published // messages_per_image - done >= max_backlog and waiting_helps:
            player.pause()
        else:
            player.resume()
        thread.join(0.01)
    return played[0]
