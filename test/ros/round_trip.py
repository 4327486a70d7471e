"""Round-trip helpers for the per-message converter tests (attune.ros.msg_*): a structural equality
that treats NaN as equal to NaN and float32 rounding as equal, and hypothesis strategies for the
values messages carry."""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from hypothesis import strategies as st
from std_msgs.msg import Header

from attune.geometry import BoundingBox
from attune.ros.stamps import from_ns


def assert_same(a: Any, b: Any, path: str = 'value') -> None:
    """a and b hold the same values: dataclasses field by field (whatever their __eq__), sequences
    item by item, floats and arrays to float32 precision, NaN equal to NaN."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), f'{path}: {type(a).__name__} != {type(b).__name__}'
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f'{path}.{f.name}')
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert a is not None and b is not None, f'{path}: {a!r} != {b!r}'
        assert np.shape(a) == np.shape(b), f'{path}: shape {np.shape(a)} != {np.shape(b)}'
        assert np.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True), f'{path}: {a!r} != {b!r}'
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f'{path}: {a!r} != {b!r}'
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f'{path}[{i}]')
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f'{path}: {a!r} != {b!r}'
        for k in a:
            assert_same(a[k], b[k], f'{path}[{k!r}]')
    elif isinstance(a, float) and not isinstance(b, bool) and isinstance(b, (int, float)):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6), \
            f'{path}: {a!r} != {b!r}'
    else:
        assert a == b, f'{path}: {a!r} != {b!r}'


def header(stamp_ns: int, frame_id: str = 'camera') -> Header:
    return Header(stamp=from_ns(stamp_ns, Time), frame_id=frame_id)


#: Stamps a builtin_interfaces/Time holds exactly (seconds within int32, non-negative).
stamps = st.integers(min_value=0, max_value=2**31 * 1_000_000_000 - 1)
#: Floats a float32 field holds exactly.
floats32 = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=32)
unit32 = st.floats(min_value=0.0, max_value=1.0, width=32)
maybe_nan32 = st.one_of(floats32, st.just(math.nan))
#: Words: ids, labels, sources (printable, may be empty).
words = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=12)
labels = st.lists(words, max_size=6).map(tuple)


@st.composite
def boxes(draw: st.DrawFn) -> BoundingBox:
    xmin, ymin = draw(unit32), draw(unit32)
    return BoundingBox(xmin, ymin, draw(st.floats(xmin, 1.0, width=32)), draw(st.floats(ymin, 1.0, width=32)))


@st.composite
def distributions(draw: st.DrawFn) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """(labels, probabilities) of one length."""
    names = draw(labels)
    return names, tuple(draw(st.lists(unit32, min_size=len(names), max_size=len(names))))


def points(n: int | None = None) -> st.SearchStrategy[np.ndarray]:
    """(N, 3) float32 arrays (N drawn when not given)."""
    sizes = st.just(n) if n is not None else st.integers(1, 8)
    return sizes.flatmap(lambda k: st.lists(floats32, min_size=3 * k, max_size=3 * k)).map(
        lambda v: np.asarray(v, dtype=np.float32).reshape(-1, 3))
