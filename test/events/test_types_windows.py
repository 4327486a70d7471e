"""Event arrays and their checks, occupancy frames, sliding windows, face windows, sensor face boxes."""
from __future__ import annotations

import numpy as np
import pytest

from attune.events.emulator import EmulatorOptions
from attune.events.errors import EventError
from attune.events.face_window import FaceEventEmulator, WindowOptions, crop_window, saccade_offset
from attune.events.representation import event_frames
from attune.events.sensor_roi import activity_face_box
from attune.events.sliding_window import SlidingWindow, TrackWindows
from attune.events.types import EventArray, checked_events
from attune.geometry import BoundingBox


def events(xs, ys, ts, ps, w=4, h=3) -> EventArray:
    return checked_events(xs, ys, ts, ps, w, h)[0]


def test_checked_events_drops_outside_sorts_and_rejects_ragged_arrays() -> None:
    e, check = checked_events([0, 9, 1, 2], [0, 0, 5, 1], [30, 10, 20, 5], [1, 0, 2, 0], 4, 3)
    assert check.outside == 2 and check.resorted and not check.clean
    assert e.t.tolist() == [5, 30] and e.x.tolist() == [2, 0] and e.p.tolist() == [0, 1]
    assert checked_events([], [], [], [], 4, 3)[1].clean
    with pytest.raises(EventError, match='length'):
        checked_events([1], [1, 2], [1], [1], 4, 3)
    with pytest.raises(EventError, match='no pixels'):
        checked_events([], [], [], [], 0, 3)


def test_event_frames_bin_time_and_polarity_and_scale_the_grid() -> None:
    e = events([0, 3, 3, 1], [0, 2, 2, 1], [0, 49, 50, 99], [1, 0, 1, 1])
    f = event_frames(e, bins=2, height=3, width=4, start_ns=0, stop_ns=100)
    assert f.shape == (2, 2, 3, 4) and f.sum() == 4
    assert f[1, 0, 0, 0] == 1 and f[0, 0, 2, 3] == 1 and f[1, 1, 2, 3] == 1 and f[1, 1, 1, 1] == 1
    small = event_frames(e, bins=1, height=1, width=2, start_ns=0, stop_ns=100)
    assert small[1, 0].tolist() == [[1, 1]] and small[0, 0].tolist() == [[0, 1]]
    cropped = event_frames(e, bins=1, height=2, width=2, start_ns=0, stop_ns=100, box=(2, 1, 4, 3))
    assert cropped[1, 0].tolist() == [[0, 0], [0, 1]]
    with pytest.raises(EventError):
        event_frames(e, bins=1, height=2, width=2, start_ns=5, stop_ns=5)


def test_sliding_window_keeps_the_last_duration_and_tracks_expire() -> None:
    w = SlidingWindow(duration_ns=100)
    w.add(events([0], [0], [10], [1]), 20)
    w.add(EventArray.empty(4, 3), 60)        # an empty packet: time passes
    w.add(events([1, 2], [1, 1], [140, 150], [1, 0]), 150)
    assert w.events().t.tolist() == [140, 150] and w.history_ns == 140
    tracks = TrackWindows(duration_ns=100, timeout_ns=1000)
    tracks.add('a', events([0], [0], [10], [1]), 10)
    tracks.add('b', events([0], [0], [2000], [1]), 2000)
    assert list(tracks.windows) == ['b']


def test_saccades_trace_a_closed_triangle() -> None:
    points = np.array([saccade_offset(t, 2.0, 0.3) for t in np.linspace(0, 0.3, 7)])
    assert np.allclose(points[0], points[-1]) and np.abs(points).max() <= 2.0
    assert saccade_offset(0.1, 0.0, 0.3) == (0.0, 0.0)


def test_crop_window_averages_area_and_repeats_borders() -> None:
    image = np.tile(np.arange(100, dtype=np.uint8), (100, 1))
    window = crop_window(image, 50, 50, 40, 8)
    assert window.shape == (8, 8) and np.allclose(window[0], window[-1])
    assert window[0, 0] == pytest.approx(32.0, abs=1.0) and window[0, -1] == pytest.approx(67.0, abs=1.0)
    outside = crop_window(image, 0, 0, 40, 8)
    assert outside[0, 0] == pytest.approx(0.0, abs=1.0)


def test_still_face_window_fires_only_with_saccades() -> None:
    rng = np.random.default_rng(0)
    image = (rng.random((120, 160)) * 200 + 20).astype(np.uint8)
    box = BoundingBox(0.3, 0.3, 0.6, 0.7)
    clean = EmulatorOptions(leak_hz=0.0, shot_noise_hz=0.0)
    still = FaceEventEmulator(WindowOptions(size=32, saccade_amplitude_px=0.0), clean)
    moving = FaceEventEmulator(WindowOptions(size=32, saccade_amplitude_px=1.0), clean)
    totals = [0, 0]
    for k in range(10):
        for i, emulator in enumerate((still, moving)):
            e, roi = emulator.step(image, box, 1 + k * 33_000_000)
            totals[i] += len(e)
    assert totals[0] == 0 and totals[1] > 500
    assert roi.xmin < 0.3 and roi.xmax > 0.6  # the window includes the margin
    with pytest.raises(EventError, match='not after'):
        moving.step(image, box, 1)


def test_activity_face_box_finds_the_top_blob() -> None:
    rng = np.random.default_rng(1)
    head = np.column_stack([rng.integers(140, 180, 3000), rng.integers(20, 70, 3000)])
    body = np.column_stack([rng.integers(80, 240, 4000), rng.integers(110, 240, 4000)])
    noise = np.column_stack([rng.integers(0, 320, 300), rng.integers(0, 240, 300)])
    xy = np.concatenate([head, body, noise])
    e = checked_events(xy[:, 0], xy[:, 1], np.arange(len(xy)), np.ones(len(xy)), 320, 240)[0]
    x0, y0, x1, y1 = activity_face_box(e)
    assert 120 <= x0 <= 145 and 175 <= x1 <= 200 and y0 <= 25 and x1 - x0 == y1 - y0
    assert activity_face_box(EventArray.empty(320, 240)) is None


def test_window_spec_carries_the_face_window_and_old_cache_keys_hold() -> None:
    """WindowSpec's margin and saccades make the emulation's WindowOptions; at their defaults the cache key
    is the one made before WindowSpec carried them (so existing window caches are found again)."""
    from dataclasses import asdict

    from attune.events.window_set import WindowSpec, window_key

    spec = WindowSpec()
    assert spec.window_options() == WindowOptions(size=32)
    assert window_key(spec) == {'window_s': 0.32, 'bins': 8, 'size': 32, 'fps': 30.0}
    tight = WindowSpec(size=48, margin=0.05, saccade_px=3.75).window_options()
    assert (tight.size, tight.margin, tight.saccade_amplitude_px) == (48, 0.05, 3.75)
    assert window_key(WindowSpec(margin=0.05)) == window_key(spec)  # the margin is keyed in window_options
    assert asdict(WindowSpec(margin=0.05).window_options()) != asdict(spec.window_options())
