"""The DVS emulator: events only where log intensity changes by a threshold, with the right polarity,
interpolated times, refractory period and noise; on synthetic and on real video frames."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from attune.events.emulator import EmulatorOptions, EventEmulator, lin_log
from attune.events.errors import EventError
from test.conftest import shared_data

CLEAN = EmulatorOptions(threshold_sigma=0.0, leak_hz=0.0, shot_noise_hz=0.0, refractory_s=0.0)


def test_first_frame_sets_the_reference_and_gives_no_events() -> None:
    emulator = EventEmulator(4, 3, CLEAN)
    assert len(emulator.step(np.full((3, 4), 100, np.uint8), 0)) == 0
    assert len(emulator.step(np.full((3, 4), 100, np.uint8), 10)) == 0


def test_events_only_where_intensity_changes_with_correct_polarity_and_count() -> None:
    emulator = EventEmulator(8, 6, CLEAN)
    before = np.full((6, 8), 100.0)
    after = before.copy()
    after[1, 2] = 100 * np.exp(0.45)   # +0.45 in log: two ON events (thresholds at 0.2, 0.4)
    after[4, 5] = 100 * np.exp(-0.25)  # -0.25: one OFF event
    after[3, 3] = 100 * np.exp(0.15)   # below threshold: nothing
    emulator.step(before, 1_000)
    events = emulator.step(after, 1_000 + 33_000_000)
    assert sorted(zip(events.x.tolist(), events.y.tolist(), events.p.tolist())) == [(2, 1, 1), (2, 1, 1), (5, 4, 0)]
    assert np.all(np.diff(events.t) >= 0)
    # Times interpolated along the log-intensity ramp: level 0.2 of 0.45 and 0.4 of 0.45, 0.2 of 0.25.
    on = np.sort(events.t[events.p == 1] - 1_000)
    assert on == pytest.approx([33_000_000 * 0.2 / 0.45, 33_000_000 * 0.4 / 0.45], abs=100)  # float32 log intensities
    assert events.t[events.p == 0][0] - 1_000 == pytest.approx(33_000_000 * 0.2 / 0.25, abs=100)
    # The reference moved by the thresholds crossed: going back fires OFF events at the same pixel.
    back = emulator.step(before * np.exp(0.1), 1_000 + 66_000_000)  # +0.1 everywhere: 0.3 from both references
    assert set(zip(back.x.tolist(), back.y.tolist(), back.p.tolist())) == {(2, 1, 0), (5, 4, 1)}


def test_refractory_period_drops_events_too_close_in_time() -> None:
    options = EmulatorOptions(threshold_sigma=0.0, leak_hz=0.0, shot_noise_hz=0.0, refractory_s=0.010)
    emulator = EventEmulator(1, 1, options)
    emulator.step(np.full((1, 1), 50.0), 0)
    events = emulator.step(np.full((1, 1), 50 * np.exp(1.01)), 20_000_000)  # 5 crossings, 4 ms apart
    assert len(events) == 2  # at 4 ms and 16 ms (8 and 12 ms are within 10 ms of 4 ms)
    assert np.all(np.diff(events.t) >= 10_000_000)


def test_noise_makes_events_in_a_still_scene_at_about_the_set_rate() -> None:
    options = EmulatorOptions(leak_hz=0.0, shot_noise_hz=2.0, seed=3)
    emulator = EventEmulator(50, 40, options)
    frame = np.full((40, 50), 80, np.uint8)
    emulator.step(frame, 0)
    total = sum(len(emulator.step(frame, k * 100_000_000)) for k in range(1, 11))  # 1 s
    assert 0.8 * 2.0 * 2000 < total < 1.2 * 2.0 * 2000
    leak = EventEmulator(50, 40, EmulatorOptions(leak_hz=1.0, shot_noise_hz=0.0, threshold_sigma=0.0, seed=1))
    leak.step(frame, 0)
    events = [leak.step(frame, k * 100_000_000) for k in range(1, 21)]  # 2 s: about 2 ON events per pixel
    assert all(np.all(e.p == 1) for e in events)
    assert 1.6 * 2000 < sum(len(e) for e in events) < 2.4 * 2000


def test_lin_log_is_linear_below_the_knee_and_continuous() -> None:
    values = lin_log(np.array([0.0, 10.0, 20.0, 20.001, 255.0]))
    assert values[0] == 0.0 and values[1] == pytest.approx(values[2] / 2)
    assert values[3] == pytest.approx(values[2], abs=1e-4) and values[4] == pytest.approx(np.log(255.0))


def test_bad_frames_raise_and_leave_the_state_unchanged() -> None:
    emulator = EventEmulator(4, 4, CLEAN)
    emulator.step(np.zeros((4, 4)), 100)
    with pytest.raises(EventError, match='shape'):
        emulator.step(np.zeros((5, 4)), 200)
    with pytest.raises(EventError, match='not after'):
        emulator.step(np.zeros((4, 4)), 100)
    with pytest.raises(EventError, match='NaN'):
        emulator.step(np.full((4, 4), np.nan), 300)
    assert len(emulator.step(np.zeros((4, 4)), 400)) == 0
    with pytest.raises(EventError):
        EmulatorOptions(pos_threshold=0.0)


def _real_frames() -> tuple[np.ndarray, np.ndarray]:
    capture = cv2.VideoCapture(str(shared_data('video', 'faces', 'd3.mp4')))
    frames = []
    for _ in range(12):
        ok, bgr = capture.read()
        assert ok
        frames.append(cv2.cvtColor(cv2.resize(bgr, (128, 128), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY))
    capture.release()
    return frames[0], frames[11]


def test_real_video_frames_fire_only_where_log_intensity_changed_enough_with_its_sign() -> None:
    first, last = _real_frames()
    emulator = EventEmulator(128, 128, CLEAN)
    emulator.step(first, 0)
    events = emulator.step(last, 366_000_000)
    change = lin_log(last) - lin_log(first)
    assert len(events) > 100  # the person moves
    fired = np.zeros((128, 128), bool)
    fired[events.y, events.x] = True
    assert np.all(np.abs(change[fired]) >= 0.2 - 1e-5)
    assert not np.any(fired[np.abs(change) < 0.2 - 1e-5])
    assert np.all(np.sign(change[events.y, events.x]) == np.where(events.p == 1, 1, -1))
    counts = np.zeros((128, 128), int)
    np.add.at(counts, (events.y, events.x), 1)
    expected = np.minimum(np.floor(np.abs(change) / 0.2 + 1e-6).astype(int), 10)  # 10: most per pixel and frame
    assert np.array_equal(counts, expected)
