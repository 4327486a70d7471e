"""The executor every node process spins (attune.ros.node_main.node_executor) keeps ROS time.

Replays drive nodes with /clock (use_sim_time): their timers (diagnostics, the behaviour engine's tick)
must follow the bag's time and stop when it stops, as they did under the SingleThreadedExecutor. rclcpp's
events executor did not support the simulated clock (ros2/rclcpp#2457), so this is checked, not assumed.
"""
from __future__ import annotations

import time

from rclpy.parameter import Parameter

from attune.ros.node_main import node_executor

PERIOD_S = 0.5  # of ROS (bag) time
CLOCK_PERIOD_S = 0.025  # wall time between /clock messages; bag time runs at the wall's rate
SPAN_S = 2.6  # of bag time played


def test_timers_follow_the_simulated_clock_and_stop_with_it(rclpy_session: None) -> None:
    import rclpy
    from rosgraph_msgs.msg import Clock

    node = rclpy.create_node('executor_sim_time', parameter_overrides=[Parameter('use_sim_time', value=True)])
    clock_node = rclpy.create_node('executor_sim_clock')
    fired: list[float] = []
    node.create_timer(PERIOD_S, lambda: fired.append(node.get_clock().now().nanoseconds * 1e-9))
    clock = clock_node.create_publisher(Clock, '/clock', 10)
    executor = node_executor()
    executor.add_node(node)
    executor.add_node(clock_node)
    start_s = bag_s = 100.0

    def publish_clock() -> None:
        msg = Clock()
        msg.clock.sec, msg.clock.nanosec = int(bag_s), round((bag_s % 1) * 1e9)
        clock.publish(msg)

    try:
        wall_start = sent = time.monotonic()
        while bag_s < start_s + SPAN_S:  # a replay at rate 1: bag time follows the wall
            executor.spin_once(timeout_sec=0.005)
            if time.monotonic() - sent >= CLOCK_PERIOD_S:
                bag_s, sent = start_s + time.monotonic() - wall_start, time.monotonic()
                publish_clock()
        # One firing per period of bag time (a starved process may skip some, never add any).
        assert 2 <= len(fired) <= SPAN_S / PERIOD_S + 1, fired
        assert all(start_s <= t <= bag_s + 1e-6 for t in fired), (fired, bag_s)
        stopped_at, frozen_until = len(fired), time.monotonic() + 1.5
        while time.monotonic() < frozen_until:  # the bag pauses: bag time stands still, no timer fires
            publish_clock()
            executor.spin_once(timeout_sec=0.02)
        assert len(fired) == stopped_at, fired
    finally:
        executor.shutdown()
        node.destroy_node()
        clock_node.destroy_node()

