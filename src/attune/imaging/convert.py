"""Conversion between ROS image messages and numpy arrays, with strict validation.

Works on anything shaped like sensor_msgs/Image or sensor_msgs/CompressedImage: rclpy messages,
rosbags messages, or plain objects with the same fields. No rclpy import.

Why our own converter, when cv_bridge and rosbags-image exist: cv_bridge is not installable without
a ROS install, and neither checks that step, width, height and data length agree before reshaping,
so a malformed message turns into a reshape error or a silently skewed image. Here every check names
the field at fault, and the arrays are identical to cv_bridge's `passthrough` conversion (tested
against rosbags-image here, and against cv_bridge where it is importable).
"""
from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from attune.errors import ImageError, ImageTooLargeError, UnsupportedEncodingError


@dataclass(frozen=True)
class PixelFormat:
    """How one encoding lays out a pixel."""

    channels: int
    dtype: np.dtype[Any]

    @property
    def bytes_per_pixel(self) -> int:
        return self.channels * self.dtype.itemsize


_U8 = np.dtype(np.uint8)
_U16 = np.dtype(np.uint16)

#: Encodings of sensor_msgs/Image that attune reads and writes (REP-104 names, plus OpenCV aliases
#: that cameras publish for the same layouts).
PIXEL_FORMATS: dict[str, PixelFormat] = {
    'rgb8': PixelFormat(3, _U8),
    'bgr8': PixelFormat(3, _U8),
    'rgba8': PixelFormat(4, _U8),
    'bgra8': PixelFormat(4, _U8),
    'mono8': PixelFormat(1, _U8),
    'mono16': PixelFormat(1, _U16),
    '8UC1': PixelFormat(1, _U8),
    '8UC3': PixelFormat(3, _U8),
    '8UC4': PixelFormat(4, _U8),
    '16UC1': PixelFormat(1, _U16),
}

#: The largest image accepted by default: 4096 x 4096 pixels (a 4K camera fits; an 8000 x 8000
#: frame, about 190 MB as rgb8, does not).
DEFAULT_MAX_PIXELS = 4096 * 4096

_JPEG_MAGIC = b'\xff\xd8\xff'
_PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


@dataclass(frozen=True)
class ImageFields:
    """The fields of a sensor_msgs/Image (without the header)."""

    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: bytes


def _buffer(data: Any) -> memoryview:
    """A byte view of a message's data field (bytes, bytearray, array.array('B'), list of ints)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return memoryview(data).cast('B')
    if hasattr(data, 'typecode') and hasattr(data, 'itemsize'):  # array.array
        return memoryview(data).cast('B')
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data, dtype=np.uint8).data.cast('B')
    try:
        return memoryview(bytes(data))
    except (TypeError, ValueError) as exc:
        raise ImageError(f'image data is not a byte sequence ({type(data).__name__}): {exc}') from None


def check_size(width: int, height: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Raise unless 0 < width, height and width * height <= max_pixels."""
    if width <= 0 or height <= 0:
        raise ImageError(f'image has zero size (width={width}, height={height})')
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f'image is {width}x{height} = {width * height} pixels, more than the maximum of '
            f'{max_pixels} (parameter max_image_pixels)')


def image_to_array(msg: Any, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> npt.NDArray[Any]:
    """Convert a sensor_msgs/Image to an array in the message's own channel order and depth.

    Returns (height, width) for one-channel encodings, else (height, width, channels); uint8 or
    uint16 in native byte order. The array is a read-only view of the message's data where the
    layout allows (no padding, native byte order), else a copy.

    Raises:
        UnsupportedEncodingError: the encoding is not one of PIXEL_FORMATS.
        ImageTooLargeError: width * height exceeds max_pixels.
        ImageError: zero size, a step shorter than a row, or data whose length is not step * height.
    """
    encoding = str(msg.encoding)
    fmt = PIXEL_FORMATS.get(encoding)
    if fmt is None:
        raise UnsupportedEncodingError(
            f'image encoding {encoding!r} is not supported (supported: {", ".join(PIXEL_FORMATS)})')
    width, height, step = int(msg.width), int(msg.height), int(msg.step)
    check_size(width, height, max_pixels)
    row_bytes = width * fmt.bytes_per_pixel
    if step < row_bytes:
        raise ImageError(
            f'image step {step} is shorter than one row of {width} {encoding} pixels '
            f'({row_bytes} bytes)')
    data = _buffer(msg.data)
    if len(data) != step * height:
        raise ImageError(
            f'image data has {len(data)} bytes, expected step * height = {step} * {height} = '
            f'{step * height} (truncated or padded data)')
    rows = np.frombuffer(data, dtype=np.uint8).reshape(height, step)
    if step != row_bytes:
        rows = rows[:, :row_bytes]
    if fmt.dtype.itemsize == 1:
        pixels = rows.view(fmt.dtype)
    else:
        if step % fmt.dtype.itemsize:
            rows = np.ascontiguousarray(rows)  # odd-step rows cannot be viewed as 16-bit words
        source = fmt.dtype.newbyteorder('>' if msg.is_bigendian else '<')
        pixels = rows.view(source)
        if source != fmt.dtype.newbyteorder('='):
            pixels = pixels.astype(fmt.dtype.newbyteorder('='))  # byte-swapping copy
    if fmt.channels == 1:
        return pixels.reshape(height, width)
    return pixels.reshape(height, width, fmt.channels)


def array_to_fields(array: npt.NDArray[Any], encoding: str) -> ImageFields:
    """Pack an array into the fields of a sensor_msgs/Image of the given encoding (no padding)."""
    fmt = PIXEL_FORMATS.get(encoding)
    if fmt is None:
        raise UnsupportedEncodingError(
            f'image encoding {encoding!r} is not supported (supported: {", ".join(PIXEL_FORMATS)})')
    expected_ndim = 2 if fmt.channels == 1 else 3
    if array.ndim == 3 and fmt.channels == 1 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim != expected_ndim or (fmt.channels > 1 and array.shape[2] != fmt.channels):
        raise ImageError(f'array of shape {array.shape} does not fit encoding {encoding!r}')
    if array.dtype != fmt.dtype:
        raise ImageError(f'array of dtype {array.dtype} does not fit encoding {encoding!r} ({fmt.dtype})')
    height, width = array.shape[:2]
    check_size(width, height, max_pixels=np.iinfo(np.int64).max)
    data = np.ascontiguousarray(array, dtype=fmt.dtype.newbyteorder('=')).tobytes()
    return ImageFields(height=height, width=width, encoding=encoding,
                       is_bigendian=int(sys.byteorder == 'big' and fmt.dtype.itemsize > 1),
                       step=width * fmt.bytes_per_pixel, data=data)


def compressed_format(data: bytes | memoryview, declared: str = '') -> str:
    """'jpeg' or 'png' from the data's magic bytes; raise if it is neither."""
    head = bytes(data[:8])
    if head.startswith(_JPEG_MAGIC):
        return 'jpeg'
    if head.startswith(_PNG_MAGIC):
        return 'png'
    raise UnsupportedEncodingError(
        f'CompressedImage data is not a JPEG or PNG image (format field {declared!r}, '
        f'first bytes {head.hex() or "<empty>"})')


def compressed_to_array(msg: Any, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[npt.NDArray[Any], str]:
    """Decode a sensor_msgs/CompressedImage (JPEG or PNG) to (array, encoding).

    The array is what OpenCV decodes with IMREAD_UNCHANGED (as cv_bridge's passthrough does):
    bgr8, bgra8, mono8 or mono16. The image size is read from the file header and checked against
    max_pixels before anything is decoded.

    Raises:
        UnsupportedEncodingError: the data is not JPEG or PNG.
        ImageTooLargeError: the header announces more than max_pixels.
        ImageError: the data is truncated or corrupt.
    """
    declared = str(getattr(msg, 'format', ''))
    data = _buffer(msg.data)
    kind = compressed_format(data, declared)
    width, height = _header_size(data, kind)
    check_size(width, height, max_pixels)
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None or decoded.shape[0] != height or decoded.shape[1] != width:
        raise ImageError(f'CompressedImage {kind} data of {len(data)} bytes cannot be decoded '
                         '(truncated or corrupt)')
    if decoded.ndim == 2:
        encoding = 'mono16' if decoded.dtype == np.uint16 else 'mono8'
    elif decoded.dtype != np.uint8:
        raise UnsupportedEncodingError(f'CompressedImage {kind} with {decoded.dtype} colour channels '
                                       'is not supported')
    else:
        encoding = 'bgra8' if decoded.shape[2] == 4 else 'bgr8'
    return decoded, encoding


def _header_size(data: memoryview, kind: str) -> tuple[int, int]:
    """Width and height from a JPEG or PNG header, without decoding the pixels."""
    from PIL import Image, UnidentifiedImageError  # Pillow reads headers lazily

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ImageError(f'CompressedImage {kind} header cannot be read: {exc}') from None


def encode_compressed(array: npt.NDArray[Any], kind: str = 'jpeg', quality: int = 90) -> bytes:
    """Encode a bgr8 / mono8 array as JPEG or PNG bytes (the inverse of compressed_to_array)."""
    if kind == 'jpeg':
        ok, buf = cv2.imencode('.jpg', array, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    elif kind == 'png':
        ok, buf = cv2.imencode('.png', array)
    else:
        raise UnsupportedEncodingError(f'compressed format {kind!r} is not supported (jpeg, png)')
    if not ok:
        raise ImageError(f'OpenCV could not encode a {array.shape} {array.dtype} array as {kind}')
    return buf.tobytes()


def to_rgb8(array: npt.NDArray[Any], encoding: str) -> npt.NDArray[Any]:
    """A contiguous (H, W, 3) uint8 RGB image from an array of the given encoding.

    mono16 is reduced to 8 bits by dropping the low byte (value >> 8).
    """
    fmt = PIXEL_FORMATS.get(encoding)
    if fmt is None:
        raise UnsupportedEncodingError(f'image encoding {encoding!r} is not supported')
    if encoding in ('rgb8',):
        return np.ascontiguousarray(array)
    if encoding in ('bgr8', '8UC3'):
        return cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
    if encoding == 'rgba8':
        return cv2.cvtColor(array, cv2.COLOR_RGBA2RGB)
    if encoding in ('bgra8', '8UC4'):
        return cv2.cvtColor(array, cv2.COLOR_BGRA2RGB)
    if fmt.dtype == np.uint16:
        array = (array >> 8).astype(np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_GRAY2RGB)


def rgb8_from_image(msg: Any, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> npt.NDArray[Any]:
    """sensor_msgs/Image -> contiguous RGB uint8 array (what MediaPipe wants)."""
    return to_rgb8(image_to_array(msg, max_pixels=max_pixels), str(msg.encoding))


def rgb8_from_compressed(msg: Any, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> npt.NDArray[Any]:
    """sensor_msgs/CompressedImage -> contiguous RGB uint8 array."""
    array, encoding = compressed_to_array(msg, max_pixels=max_pixels)
    return to_rgb8(array, encoding)


def checked_size(msg: Any, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """(width, height) of an Image or CompressedImage without converting its pixels: a raw image is
    checked in full (encoding, size, step, data length; image_to_array only takes a view), a
    compressed one by its magic bytes and file header. Raises what the decoders raise."""
    if hasattr(msg, 'encoding'):
        array = image_to_array(msg, max_pixels=max_pixels)
        return array.shape[1], array.shape[0]
    data = _buffer(msg.data)
    width, height = _header_size(data, compressed_format(data, str(getattr(msg, 'format', ''))))
    check_size(width, height, max_pixels)
    return width, height
