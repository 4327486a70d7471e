"""Hypothesis strategies for every message type an attune node subscribes to.

One generic strategy walks a message's fields (rosidl introspection) and fills each with hostile
values of its type: NaN, inf and extreme floats, integers at the ends of their range, strings with
control characters and terminal escapes (sometimes 100 KB), empty and oversized sequences, absurd
stamps. Images and compressed images get their own strategies (every encoding, sizes and steps that
agree or not, empty, short and huge data, garbage and truncated JPEG/PNG), because a random byte
string almost never reaches the interesting checks.
"""
from __future__ import annotations

import array
import contextlib
import importlib
from functools import cache
from typing import Any

import numpy as np
from hypothesis import strategies as st

from attune.imaging import PIXEL_FORMATS, encode_compressed

_INT_RANGES = {
    'boolean': (0, 1), 'octet': (0, 255), 'uint8': (0, 255), 'char': (0, 255), 'int8': (-128, 127),
    'uint16': (0, 2**16 - 1), 'int16': (-2**15, 2**15 - 1), 'uint32': (0, 2**32 - 1), 'int32': (-2**31, 2**31 - 1),
    'uint64': (0, 2**64 - 1), 'int64': (-2**63, 2**63 - 1),
}
_FLOAT_EDGES = [float('nan'), float('inf'), -float('inf'), 0.0, -0.0, 1e30, -1e30, 1e-30, 0.5, 1.0, -1.0]

#: Text a sender might try: control characters, terminal escapes, bidi overrides, format strings.
NASTY_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(['', ' ', '\x1b[2J\x1b[31mFAKE ERROR', 'a\nb\rc\x00d', '%s%s%n', '{0}{1}', '\u202eevil',
                     '../../etc/passwd', 'f1', 'rgb8', 'SAY', 'happy']),
    st.integers(10_000, 100_000).map(lambda n: 'x' * n),  # huge strings
)


def _float(width: int) -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from(_FLOAT_EDGES),
                     st.floats(width=width, allow_nan=True, allow_infinity=True))


def _integers(kind: str) -> st.SearchStrategy[int]:
    lo, hi = _INT_RANGES[kind]
    if kind == 'boolean':
        return st.booleans()
    return st.one_of(st.sampled_from([lo, hi, 0, 1, min(hi, 255), min(hi, 256)]), st.integers(lo, hi))


def message_class(type_name: str) -> type:
    """'attune/Face' or 'std_msgs/Header' -> the rclpy message class."""
    package, _, name = type_name.partition('/')
    return getattr(importlib.import_module(f'{package}.msg'), name.split('/')[-1])


def _sequence(inner: st.SearchStrategy, kind: str) -> st.SearchStrategy:
    if kind in ('float', 'double'):
        dtype = np.float32 if kind == 'float' else np.float64
        sizes = st.one_of(st.integers(0, 12), st.sampled_from([1404, 1434, 1437, 5000, 60_000]))
        fill = st.sampled_from([0.5, float('nan'), float('inf'), 1e30, -1e30, 0.0])
        typecode = 'f' if kind == 'float' else 'd'

        def values(n: int, v: float, noise: int | None) -> array.array:
            filled = (np.full(n, v, dtype) if noise is None else
                      np.random.default_rng(noise).uniform(-2, 2, n).astype(dtype))
            return array.array(typecode, filled.tobytes())  # rclpy takes arrays without a check per value

        return st.builds(values, sizes, fill, st.one_of(st.none(), st.integers(0, 2**16)))
    if kind in ('uint8', 'octet'):
        return st.one_of(st.binary(max_size=64), st.integers(0, 1_000_000).map(bytes))
    if kind in _INT_RANGES:
        return st.lists(inner, max_size=40)
    return st.lists(inner, max_size=6 if '/' in kind else 30)


@cache
def field_strategy(kind: str, depth: int = 0) -> st.SearchStrategy:
    """A hostile value for a field of rosidl type `kind` ('float', 'sequence<string>', 'attune/Face', ...)."""
    if kind.startswith('sequence<'):
        inner_kind = kind[len('sequence<'):-1].split(',')[0]
        return _sequence(field_strategy(inner_kind, depth + 1), inner_kind)
    if kind.endswith(']'):  # fixed-size array: the right length, hostile values
        inner_kind, _, size = kind[:-1].partition('[')
        return st.lists(field_strategy(inner_kind, depth + 1), min_size=int(size), max_size=int(size))
    if kind.startswith('string') or kind.startswith('wstring'):
        return NASTY_TEXT
    if kind in ('float', 'double'):
        return _float(32 if kind == 'float' else 64)
    if kind in _INT_RANGES:
        return _integers(kind)
    if kind == 'builtin_interfaces/Time':
        return st.builds(lambda s, n: message_class(kind)(sec=s, nanosec=n),
                         st.sampled_from([0, 1, 1_700_000_000, 2**31 - 1, -1, -2**31]),
                         st.sampled_from([0, 999_999_999, 1_000_000_000, 2**32 - 1]))
    return message_strategy(message_class(kind), depth + 1)


@cache
def message_strategy(msg_type: type, depth: int = 0) -> st.SearchStrategy:
    """Any message of `msg_type`, every field hostile (nested messages to a bounded depth)."""
    fields = msg_type.get_fields_and_field_types()
    if depth > 3:
        return st.just(msg_type())
    return st.fixed_dictionaries({name: field_strategy(kind, depth) for name, kind in fields.items()}).map(
        lambda values: _build(msg_type, values))


def _build(msg_type: type, values: dict[str, Any]) -> Any:
    msg = msg_type()
    for name, value in values.items():
        # rclpy refuses what the wire format cannot carry: that field keeps its default
        with contextlib.suppress(AssertionError, TypeError, ValueError, OverflowError):
            setattr(msg, name, value)
    return msg


@st.composite
def image_messages(draw: st.DrawFn, stream_size: tuple[int, int] = (0, 0)) -> Any:
    """sensor_msgs/Image: every encoding (and unknown ones), sizes, steps and data that may disagree.
    Never a well-formed frame of the stream's own size and frame_id 'test_camera' (that would be
    the camera itself showing something else)."""
    from sensor_msgs.msg import Image

    encoding = draw(st.one_of(st.sampled_from(list(PIXEL_FORMATS)), NASTY_TEXT))
    width = draw(st.one_of(st.sampled_from([0, 1, 2, 3, 17, 64, 4096, 5000, 2**32 - 1]), st.integers(0, 300)))
    height = draw(st.one_of(st.sampled_from([0, 1, 2, 48, 4096, 2**32 - 1]), st.integers(0, 300)))
    fmt = PIXEL_FORMATS.get(encoding)
    row = width * (fmt.bytes_per_pixel if fmt else 3)
    step = draw(st.one_of(st.just(row), st.sampled_from([0, 1, row - 1, row + 1, row + 7]), st.integers(0, 2**32 - 1)))
    step = min(max(step, 0), 2**32 - 1)
    consistent = step * height if step * height <= 4_000_000 else 0
    length = draw(st.one_of(st.just(consistent), st.sampled_from([0, 1, max(consistent - 1, 0), consistent + 1]),
                            st.integers(0, 100_000)))
    frame_id = draw(st.one_of(st.just('test_camera'), NASTY_TEXT))
    if frame_id == 'test_camera' and (width, height) == stream_size:
        frame_id = 'another_camera'
    msg = Image(height=height, width=width, encoding=encoding, is_bigendian=draw(st.integers(0, 255)), step=step,
                data=bytes(length) if draw(st.booleans()) else draw(st.binary(min_size=min(length, 64),
                                                                              max_size=min(length, 64))))
    msg.header.frame_id = frame_id
    msg.header.stamp = draw(field_strategy('builtin_interfaces/Time'))
    return msg


@st.composite
def compressed_messages(draw: st.DrawFn) -> Any:
    """sensor_msgs/CompressedImage: garbage, truncated or lying JPEG/PNG, tiny real ones, wrong formats."""
    from sensor_msgs.msg import CompressedImage

    side = draw(st.integers(1, 40))
    kind = draw(st.sampled_from(['jpeg', 'png']))
    real = encode_compressed(np.full((side, side, 3), draw(st.integers(0, 255)), np.uint8), kind)
    data = draw(st.one_of(
        st.binary(max_size=256),
        st.just(real),
        st.integers(1, max(len(real) - 1, 1)).map(lambda n: real[:n]),  # truncated
        st.just(b'\xff\xd8\xff' + bytes(100)),  # JPEG magic, nothing behind
        st.just(b'\x89PNG\r\n\x1a\n' + b'\x00\x00\x00\rIHDR' + (2**31 - 1).to_bytes(4, 'big') * 2 + bytes(20)),
    ))
    msg = CompressedImage(format=draw(NASTY_TEXT), data=data)
    msg.header.frame_id = draw(st.one_of(st.just('another_camera'), NASTY_TEXT))
    return msg


@cache
def strategy_for(msg_type: type, stream_size: tuple[int, int] = (0, 0)) -> st.SearchStrategy:
    """The hostile-message strategy for one subscription's type."""
    name = msg_type.__name__
    if name == 'Image':
        return image_messages(stream_size)
    if name == 'CompressedImage':
        return compressed_messages()
    return message_strategy(msg_type)
