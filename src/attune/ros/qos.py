"""The QoS profiles attune uses, by role (explicit, as rclpy's examples recommend)."""
from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

#: Camera images in: best effort, keep the newest few. A slow consumer drops old frames instead of
#: falling behind (latest-frame semantics without an extra thread).
SENSOR = qos_profile_sensor_data

#: Results out (Faces, Expression, ...): reliable, a short history.
RESULTS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10,
                     reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)


def image_input(reliable: bool, depth: int) -> QoSProfile:
    """QoS of an image subscription: sensor data (best effort) or reliable, keep-last `depth`."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth,
                      reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
                      durability=DurabilityPolicy.VOLATILE)


#: A state others need as soon as they start (robot speaking/idle): reliable, transient local, last value.
LATCHED = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                     reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)

#: Reading a latched state whose every change matters (the robot's speech onsets): the writer keeps the last
#: value for late joiners, and the reader keeps a few, so that a short True between two Falses is not
#: overwritten before the node takes it (with depth 1 a busy reader saw only the final False).
LATCHED_CHANGES = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10,
                             reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
