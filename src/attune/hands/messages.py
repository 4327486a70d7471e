"""attune/Hands message fields -> HandFrame, for any object with the message's fields (rclpy messages
and rosbags-deserialized ones alike; no rclpy import). Building messages lives in attune.ros."""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from attune.hands.types import HandFrame, HandObservation


def flat_to_points(values: Any) -> npt.NDArray[np.float32]:
    """A flat x, y, z field -> (N, 3) float32; a length that is not a multiple of 3 gives (0, 3)
    (the recognizer then drops that hand as malformed instead of failing here)."""
    points = np.asarray(values, dtype=np.float32).ravel()
    if points.size % 3:
        return np.zeros((0, 3), dtype=np.float32)
    return points.reshape(-1, 3)


def hand_frame_from_fields(msg: Any) -> HandFrame:
    """The HandFrame carried by an attune/Hands message."""
    stamp = msg.header.stamp
    hands = []
    for h in msg.hands:
        world = flat_to_points(h.world_landmarks)
        hands.append(HandObservation(handedness=str(h.handedness), score=float(h.score),
                                     landmarks=flat_to_points(h.landmarks),
                                     world_landmarks=world if len(world) else None))
    return HandFrame(stamp_ns=int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec), width=int(msg.image_width),
                     height=int(msg.image_height), hands=tuple(hands))
