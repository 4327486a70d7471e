"""Ratings during a session: attune/SessionRating on /attune/session/rating -> the behaviour node's
session log -> `attune report` (real rclpy and DDS)."""
from __future__ import annotations

import pytest
import rclpy
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy

from attune.behavior.report import session_report
from attune.nodes.behavior_node import RATING_TOPIC, BehaviorNode
from test.conftest import wait_for

pytestmark = pytest.mark.ros


def test_behavior_node_logs_operator_ratings(spinner, tmp_path) -> None:
    from attune.msg import SessionRating

    behavior = spinner.add(BehaviorNode(
        parameter_overrides=[Parameter('policy', value='default'), Parameter('session_log_dir', value=str(tmp_path))],
        cli_args=['--ros-args', '-r', '__node:=behavior_rating']))
    rater = spinner.add(rclpy.create_node('rating_probe'))
    pub = rater.create_publisher(SessionRating, RATING_TOPIC, QoSProfile(depth=10,
                                                                         reliability=ReliabilityPolicy.RELIABLE))
    assert wait_for(lambda: pub.get_subscription_count() >= 1)
    pub.publish(SessionRating(engagement=9, comfort=3))  # outside 1-7: dropped with a reason, counted
    pub.publish(SessionRating(engagement=5, comfort=SessionRating.NOT_RATED, note='calmer now', rater='AB'))
    log = behavior.session_log.path
    assert wait_for(lambda: 'calmer now' in log.read_text() and behavior.bad_input.total >= 1)
    report = session_report(log)
    assert [(r.engagement, r.comfort, r.note, r.rater, r.source) for r in report.ratings] == [
        (5, None, 'calmer now', 'AB', 'topic')]
    assert report.ratings[0].t is not None and 0 <= report.ratings[0].t < 60 and report.ratings[0].rated_at
