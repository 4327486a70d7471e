"""Image conversion: every supported encoding, padding, byte order, and every kind of bad input."""
from __future__ import annotations

import sys
from dataclasses import dataclass, replace

import cv2
import numpy as np
import pytest

from attune.errors import ImageError, ImageTooLargeError, UnsupportedEncodingError
from attune.imaging import (
    PIXEL_FORMATS,
    array_to_fields,
    compressed_to_array,
    encode_compressed,
    image_to_array,
    rgb8_from_compressed,
    rgb8_from_image,
    to_rgb8,
)


@dataclass(frozen=True)
class FakeImage:
    """Plain fields shaped like sensor_msgs/Image (the converter is duck-typed; ROS is tested elsewhere)."""

    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: bytes


@dataclass(frozen=True)
class FakeCompressed:
    format: str
    data: bytes


def sample(encoding: str, height: int = 5, width: int = 7) -> np.ndarray:
    fmt = PIXEL_FORMATS[encoding]
    rng = np.random.default_rng(0)
    high = 65535 if fmt.dtype == np.uint16 else 255
    shape = (height, width) if fmt.channels == 1 else (height, width, fmt.channels)
    return rng.integers(0, high, size=shape, endpoint=True).astype(fmt.dtype)


def message(array: np.ndarray, encoding: str) -> FakeImage:
    f = array_to_fields(array, encoding)
    return FakeImage(f.height, f.width, f.encoding, f.is_bigendian, f.step, f.data)


@pytest.mark.parametrize('encoding', sorted(PIXEL_FORMATS))
def test_round_trip_every_encoding(encoding: str) -> None:
    array = sample(encoding)
    out = image_to_array(message(array, encoding))
    assert out.dtype == array.dtype
    np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize('encoding', ['rgb8', 'mono8', 'mono16', 'bgra8'])
def test_padded_rows_are_unpadded(encoding: str) -> None:
    array = sample(encoding, height=4, width=5)
    msg = message(array, encoding)
    pad = 3
    rows = [msg.data[i * msg.step:(i + 1) * msg.step] + b'\xee' * pad for i in range(msg.height)]
    padded = replace(msg, step=msg.step + pad, data=b''.join(rows))
    np.testing.assert_array_equal(image_to_array(padded), array)


def test_mono16_big_endian_is_byte_swapped_to_native() -> None:
    array = sample('mono16')
    big = array.astype('>u2').tobytes()
    msg = FakeImage(array.shape[0], array.shape[1], 'mono16', 1, array.shape[1] * 2, big)
    out = image_to_array(msg)
    assert out.dtype.byteorder in ('=', '<' if sys.byteorder == 'little' else '>')
    np.testing.assert_array_equal(out, array)


def test_colour_conversions_to_rgb8() -> None:
    rgb = sample('rgb8')
    np.testing.assert_array_equal(to_rgb8(rgb[..., ::-1].copy(), 'bgr8'), rgb)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 7, np.uint8)])
    np.testing.assert_array_equal(to_rgb8(rgba, 'rgba8'), rgb)
    np.testing.assert_array_equal(to_rgb8(rgba[..., [2, 1, 0, 3]].copy(), 'bgra8'), rgb)
    mono16 = np.array([[0x1234, 0xff00]], np.uint16)
    np.testing.assert_array_equal(to_rgb8(mono16, 'mono16')[0, :, 0], [0x12, 0xff])
    assert rgb8_from_image(message(rgb, 'rgb8')).flags['C_CONTIGUOUS']


@pytest.mark.parametrize(('change', 'match'), [
    ({'step': 20}, 'step 20 is shorter than one row'),
    ({'data': b'\x00' * 10}, 'data has 10 bytes, expected step'),
    ({'width': 0}, 'zero size'),
    ({'height': 0}, 'zero size'),
    ({'encoding': 'yuv422_yuy2'}, "encoding 'yuv422_yuy2' is not supported"),
])
def test_malformed_messages_name_the_problem(change: dict, match: str) -> None:
    msg = replace(message(sample('rgb8'), 'rgb8'), **change)
    with pytest.raises(ImageError, match=match):
        image_to_array(msg)


def test_truncated_data_is_refused() -> None:
    msg = message(sample('bgr8'), 'bgr8')
    with pytest.raises(ImageError, match='truncated or padded'):
        image_to_array(replace(msg, data=msg.data[:-1]))


def test_unknown_encoding_is_its_own_error_type() -> None:
    with pytest.raises(UnsupportedEncodingError):
        image_to_array(replace(message(sample('rgb8'), 'rgb8'), encoding='bayer_rggb8'))


def test_too_large_is_refused_before_touching_data() -> None:
    msg = FakeImage(8000, 8000, 'rgb8', 0, 24000, b'')
    with pytest.raises(ImageTooLargeError, match='8000x8000'):
        image_to_array(msg)


@pytest.mark.parametrize('kind', ['jpeg', 'png'])
def test_compressed_round_trip(kind: str) -> None:
    bgr = np.zeros((48, 64, 3), np.uint8)
    cv2.rectangle(bgr, (10, 10), (40, 30), (10, 200, 30), -1)
    array, encoding = compressed_to_array(FakeCompressed(kind, encode_compressed(bgr, kind)))
    assert encoding == 'bgr8'
    assert array.shape == bgr.shape
    error = np.abs(array.astype(int) - bgr)
    if kind == 'png':
        assert error.max() == 0
    else:  # JPEG is lossy (chroma subsampling smears colour edges); the picture must still match
        assert error.mean() < 3
    np.testing.assert_array_equal(rgb8_from_compressed(FakeCompressed(kind, encode_compressed(bgr, kind))),
                                  cv2.cvtColor(array, cv2.COLOR_BGR2RGB))


def test_compressed_mono_png() -> None:
    gray = sample('mono8', 9, 11)
    array, encoding = compressed_to_array(FakeCompressed('png', encode_compressed(gray, 'png')))
    assert encoding == 'mono8'
    np.testing.assert_array_equal(array, gray)


@pytest.mark.parametrize(('data', 'match'), [
    (b'this is not an image at all', 'not a JPEG or PNG'),
    (b'', 'not a JPEG or PNG'),
])
def test_compressed_garbage_is_refused(data: bytes, match: str) -> None:
    with pytest.raises(UnsupportedEncodingError, match=match):
        compressed_to_array(FakeCompressed('jpeg', data))


def test_compressed_truncated_is_refused() -> None:
    data = encode_compressed(sample('bgr8', 64, 64), 'png')
    with pytest.raises(ImageError):
        compressed_to_array(FakeCompressed('png', data[: len(data) // 2]))


def test_compressed_too_large_is_refused_from_the_header() -> None:
    big = encode_compressed(np.zeros((300, 400), np.uint8), 'png')
    with pytest.raises(ImageTooLargeError, match='400x300'):
        compressed_to_array(FakeCompressed('png', big), max_pixels=1000)


@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'mono16'])
def test_identical_to_rosbags_image(encoding: str) -> None:
    """rosbags-image (a maintained, ROS-free converter) gives the same arrays."""
    from rosbags.image import message_to_cvimage
    from rosbags.typesys import Stores, get_typestore

    Image = get_typestore(Stores.ROS2_KILTED).types['sensor_msgs/msg/Image']  # noqa: N806
    Header = get_typestore(Stores.ROS2_KILTED).types['std_msgs/msg/Header']  # noqa: N806
    Time = get_typestore(Stores.ROS2_KILTED).types['builtin_interfaces/msg/Time']  # noqa: N806
    array = sample(encoding, 6, 9)
    f = array_to_fields(array, encoding)
    msg = Image(header=Header(stamp=Time(sec=0, nanosec=0), frame_id=''), height=f.height, width=f.width,
                encoding=f.encoding, is_bigendian=f.is_bigendian, step=f.step,
                data=np.frombuffer(f.data, np.uint8))
    np.testing.assert_array_equal(image_to_array(msg), message_to_cvimage(msg))


@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8', 'mono8', 'mono16'])
def test_identical_to_cv_bridge(encoding: str) -> None:
    """On full ROS 2 installs, cv_bridge's passthrough conversion gives the same arrays."""
    cv_bridge = pytest.importorskip('cv_bridge', reason='cv_bridge exists only on a full ROS 2 install')
    from sensor_msgs.msg import Image

    array = sample(encoding, 6, 9)
    f = array_to_fields(array, encoding)
    msg = Image(height=f.height, width=f.width, encoding=f.encoding, is_bigendian=f.is_bigendian,
                step=f.step, data=f.data)
    np.testing.assert_array_equal(image_to_array(msg), cv_bridge.CvBridge().imgmsg_to_cv2(msg, 'passthrough'))
