"""Image conversion between ROS image messages and numpy arrays (no rclpy)."""
from attune.imaging.convert import (
    DEFAULT_MAX_PIXELS,
    PIXEL_FORMATS,
    ImageFields,
    array_to_fields,
    checked_size,
    compressed_to_array,
    encode_compressed,
    image_to_array,
    rgb8_from_compressed,
    rgb8_from_image,
    to_rgb8,
)

__all__ = [
    'DEFAULT_MAX_PIXELS', 'PIXEL_FORMATS', 'ImageFields', 'array_to_fields', 'checked_size', 'compressed_to_array',
    'encode_compressed', 'image_to_array', 'rgb8_from_compressed', 'rgb8_from_image', 'to_rgb8',
]
