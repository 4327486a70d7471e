"""Per-child neutral calibration and per-track smoothing: tiny exact cases."""
from __future__ import annotations

import math

import numpy as np
import pytest

from attune.affect.calibration import NeutralCalibration
from attune.affect.smoothing import TrackSmoother
from attune.errors import ConfigError

S = 1_000_000_000


def test_the_baseline_is_the_median_of_the_first_seconds_and_corrects_toward_the_reference() -> None:
    reference = np.array([0.5, 0.25, 0.25])
    calibration = NeutralCalibration(reference, duration_s=1.0, min_samples=3, max_gain=4.0)
    resting = np.array([0.25, 0.25, 0.5])  # this child's relaxed face reads as the third class
    assert calibration.status('a') == 'calibrating'
    assert calibration.observe('a', 0, resting) is None
    assert calibration.observe('a', S // 2, np.array([0.9, 0.05, 0.05])) is None  # a brief expression
    assert np.allclose(calibration.apply('a', resting), resting)  # not calibrated yet
    baseline = calibration.observe('a', S, resting)
    assert baseline is not None and baseline.samples == 3 and calibration.status('a') == 'calibrated'
    assert np.allclose(baseline.probabilities, resting)  # the median ignores the brief expression
    assert np.allclose(calibration.apply('a', resting), reference)  # the resting face now reads as neutral
    assert calibration.observe('a', 2 * S, resting) is None  # collected once


def test_gains_are_bounded() -> None:
    calibration = NeutralCalibration(np.array([0.98, 0.01, 0.01]), duration_s=0.5, min_samples=1, max_gain=2.0)
    calibration.observe('a', 0, np.array([0.01, 0.98, 0.01]))
    calibration.observe('a', S, np.array([0.01, 0.98, 0.01]))
    out = calibration.apply('a', np.array([1 / 3, 1 / 3, 1 / 3]))
    gains = np.array([2.0, 0.5, 1.0])  # clipped from (98, 1/98, 1)
    assert np.allclose(out, gains / gains.sum())


def test_a_childs_baseline_follows_them_to_a_new_track() -> None:
    calibration = NeutralCalibration(np.array([0.5, 0.5]), duration_s=0.0001, min_samples=1)
    calibration.link('t1', 'Sam')  # linked before the baseline exists
    calibration.observe('t1', 0, np.array([0.2, 0.8]))
    calibration.observe('t1', S, np.array([0.2, 0.8]))
    assert calibration.status('t2') == 'calibrating'
    shared = calibration.link('t2', 'Sam')
    assert shared is calibration.baseline('t1') and calibration.status('t2') == 'calibrated'


def test_calibration_off_and_bad_settings() -> None:
    off = NeutralCalibration(np.ones(3) / 3, duration_s=0.0)
    assert off.status('a') == 'off' and off.observe('a', 0, np.ones(3) / 3) is None
    with pytest.raises(ConfigError):
        NeutralCalibration(np.array([0.5, 0.0, 0.5]))


def test_smoothing_follows_the_stamps_not_the_rate() -> None:
    smoother = TrackSmoother(tau_s=1.0)
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert np.allclose(smoother.update('t', 0, a), a)
    alpha = 1 - math.exp(-0.5)
    assert np.allclose(smoother.update('t', S // 2, b), [1 - alpha, alpha])
    # two steps of 0.25 s end where one step of 0.5 s does
    other = TrackSmoother(tau_s=1.0)
    other.update('t', 0, a)
    other.update('t', S // 4, b)
    assert np.allclose(other.update('t', S // 2, b), [1 - alpha, alpha])
    assert np.allclose(smoother.update('u', 0, b), b)  # tracks are independent
    assert np.allclose(smoother.update('t', S // 4, a), [1 - alpha, alpha])  # out of order: unchanged


def test_smoothing_restarts_after_a_gap_and_forgets_old_tracks() -> None:
    smoother = TrackSmoother(tau_s=1.0, forget_s=2.0)
    smoother.update('t', 0, np.array([1.0, 0.0]))
    assert np.allclose(smoother.update('t', 3 * S, np.array([0.0, 1.0])), [0.0, 1.0])
    smoother.forget_older_than(10 * S)
    assert smoother.tracks() == ()
    assert np.allclose(TrackSmoother(tau_s=0.0).update('t', 0, np.array([0.2, 0.8])), [0.2, 0.8])


def test_smoothing_restarts_when_time_jumps_back() -> None:
    smoother = TrackSmoother(tau_s=1.0, forget_s=2.0)
    smoother.update('t', 100 * S, np.array([1.0, 0.0]))
    assert np.allclose(smoother.update('t', 0, np.array([0.0, 1.0])), [0.0, 1.0])  # a looping replay
