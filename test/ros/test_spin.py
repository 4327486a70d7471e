"""attune.ros.spin.spin_once: a turn of the executor that meets a publisher destroyed while it builds its
wait set (ros2/rclpy#1284) is spun again, and the node's callbacks go on; a callback's own
InvalidHandle still reaches the caller.

The race needs another thread to destroy the publisher between the executor's collecting the node's
entities and its adding them to the wait set. A waitable listed before the publisher's event handlers
destroys it at exactly that moment (the executor enters the waitables in order), so the race happens on
every run instead of once in thousands."""
from __future__ import annotations

import pytest

from attune.ros.spin import spin_once
from test.conftest import wait_for

pytestmark = pytest.mark.ros


def _destroyer(node, publisher):
    """A waitable that destroys `publisher` when the executor enters it to build a wait set."""
    from rclpy.waitable import NumberOfEntities, Waitable

    class DestroyOnEnter(Waitable):
        def __init__(self) -> None:
            super().__init__(node.default_callback_group)
            self.publisher = publisher

        def __enter__(self) -> None:
            if self.publisher is not None:
                node.destroy_publisher(self.publisher)  # as another thread would, at the worst moment
                self.publisher = None

        def __exit__(self, *exc: object) -> None:
            pass

        def is_ready(self, wait_set) -> bool:
            return False

        def take_data(self) -> None:
            return None

        async def execute(self, taken_data: None) -> None:
            return None

        def get_num_entities(self) -> NumberOfEntities:
            return NumberOfEntities()

        def add_to_wait_set(self, wait_set) -> None:
            pass

    return DestroyOnEnter()


def _racing_node(name: str):
    """A node whose next wait set meets a publisher destroyed while it is built."""
    import rclpy
    from std_msgs.msg import String

    node = rclpy.create_node(name)
    waitable = _destroyer(node, None)
    node.add_waitable(waitable)  # listed before the publisher's event handlers
    waitable.publisher = node.create_publisher(String, f'/{name}_doomed', 10)
    assert waitable.publisher.event_handlers, 'the race needs a publisher with QoS event handlers'
    return node


def test_a_turn_that_meets_a_destroyed_publisher_is_spun_again(rclpy_session: None) -> None:
    from rclpy._rclpy_pybind11 import InvalidHandle
    from rclpy.executors import SingleThreadedExecutor
    from std_msgs.msg import String

    # rclpy itself: the turn raises, which ended every spin loop built on it
    node = _racing_node('spin_race_plain')
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        with pytest.raises(InvalidHandle):
            executor.spin_once(timeout_sec=0.0)
    finally:
        executor.shutdown()
        node.destroy_node()

    node = _racing_node('spin_race')
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        assert spin_once(executor, 0.0) is False  # the race: nothing taken, nothing run
        got: list[str] = []
        node.create_subscription(String, '/spin_race_alive', lambda m: got.append(m.data), 10)
        publisher = node.create_publisher(String, '/spin_race_alive', 10)
        assert wait_for(lambda: publisher.get_subscription_count() >= 1, 30)
        publisher.publish(String(data='alive'))
        for _ in range(100):
            if got:
                break
            assert spin_once(executor, 0.1) is True
        assert got == ['alive']  # the node's callbacks still run
    finally:
        executor.shutdown()
        node.destroy_node()


def test_an_invalid_handle_raised_by_a_callback_is_not_absorbed(rclpy_session: None) -> None:
    import rclpy
    from rclpy._rclpy_pybind11 import InvalidHandle
    from rclpy.executors import SingleThreadedExecutor
    from std_msgs.msg import String

    node = rclpy.create_node('spin_callback_error')
    publisher = node.create_publisher(String, '/spin_callback_error', 10)
    node.destroy_publisher(publisher)
    node.create_timer(0.01, lambda: publisher.publish(String(data='x')))  # a bug: a destroyed publisher
    executor = SingleThreadedExecutor()
    executor.add_node(node)

    def spin_until_the_timer_fires() -> None:
        for _ in range(200):
            spin_once(executor, 0.1)
    try:
        with pytest.raises(InvalidHandle):
            spin_until_the_timer_fires()
    finally:
        executor.shutdown()
        node.destroy_node()
