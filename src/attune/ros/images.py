"""sensor_msgs/Image from numpy, and pinhole intrinsics from sensor_msgs/CameraInfo (ROS's own
camera messages; attune's messages are in attune.ros.messages)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy.typing as npt
from sensor_msgs.msg import CameraInfo, Image

from attune.geometry import CameraIntrinsics
from attune.imaging import array_to_fields

if TYPE_CHECKING:
    from std_msgs.msg import Header


def image_msg(array: npt.NDArray[Any], encoding: str, header: Header) -> Image:
    """A sensor_msgs/Image of `array` with the given encoding and header."""
    fields = array_to_fields(array, encoding)
    return Image(header=header, height=fields.height, width=fields.width, encoding=fields.encoding,
                 is_bigendian=fields.is_bigendian, step=fields.step, data=fields.data)


def intrinsics_from_camera_info(info: CameraInfo) -> CameraIntrinsics | None:
    """Pinhole intrinsics from a CameraInfo, or None if it carries no calibration (K all zero)."""
    k = list(info.k)
    if info.width == 0 or info.height == 0 or k[0] <= 0 or k[4] <= 0:
        return None
    known_model = info.distortion_model in ('plumb_bob', 'rational_polynomial')
    distortion = tuple(float(d) for d in info.d) if known_model else ()
    return CameraIntrinsics(width=info.width, height=info.height, fx=k[0], fy=k[4], cx=k[2], cy=k[5],
                            distortion=distortion)
