"""The stream guard's core evidence: exact small cases on numpy frames."""
from __future__ import annotations

import math

import numpy as np

from attune.integrity.content import blockiness, dhash, frame_content, hamming, noise_floor, residual_correlation
from attune.integrity.evidence import FEATURES, CameraInfoSeen, FrameObservation, StreamEvidence, publisher_kind
from attune.integrity.simulate import jpeg, sensor_noise


def scene(seed: int = 0, size: int = 192) -> np.ndarray:
    """A smooth synthetic scene (gradients and a disc), rgb8."""
    y, x = np.mgrid[:size, :size].astype(np.float32)
    base = 60 + 0.5 * x + 0.3 * y + 60 * (((x - 90) ** 2 + (y - 100) ** 2) < 40 ** 2)
    return np.repeat(np.clip(base, 0, 255)[..., None], 3, axis=2).astype(np.uint8)


def test_fresh_noise_has_a_floor_and_copies_have_none() -> None:
    rng = np.random.default_rng(1)
    clean = scene()
    a, b = (frame_content(sensor_noise(clean, rng, 0.1, 2.0)) for _ in range(2))
    copy = frame_content(clean)
    assert noise_floor(a, b) > 1.5
    assert noise_floor(copy, copy) == 0.0
    assert residual_correlation(copy, copy) == 1.0
    assert residual_correlation(a, b) < 0.9   # the disc edge correlates; the noise does not
    assert hamming(dhash(clean.astype(np.float32)[..., 0]), a.dhash) <= 4


def test_jpeg_frames_are_blocky_and_raw_noise_is_not() -> None:
    rng = np.random.default_rng(2)
    raw = sensor_noise(scene(), rng, 0.1, 2.0)
    gray = lambda rgb: rgb.astype(np.float32).mean(axis=2)  # noqa: E731
    assert blockiness(gray(raw)) < 1.1
    assert blockiness(gray(jpeg(raw, 50))) > 1.3


def test_publisher_names_are_classified() -> None:
    assert publisher_kind('/usb_cam') == 'camera'
    assert publisher_kind('/nao/naoqi_driver') == 'camera'
    assert publisher_kind('/rosbag2_player') == 'player'
    assert publisher_kind('/attune_player') == 'player'
    assert publisher_kind('/head_cam') == 'unknown'


def observations(stamps_ms, receive_ms, frames, frame_id='cam'):
    for s, r, f in zip(stamps_ms, receive_ms, frames):
        yield FrameObservation(int(s * 1e6), int(r * 1e6), frame_id, f.shape[1], f.shape[0], frame_content(f))


def test_features_of_a_regular_replayed_still() -> None:
    still = scene()
    evidence = StreamEvidence(publishers=('/attune_player',), camera_info=None)
    stamps = np.arange(40) * 33.0
    for obs in observations(stamps, stamps + 0.1, [still] * 40):
        evidence.add(obs)
    f = evidence.features()
    assert tuple(f) == FEATURES and evidence.ready
    assert f['log_jitter_ms'] == math.log10(0.001)
    assert f['repeat_fraction'] == 1.0 and f['loop_fraction'] > 0.5
    assert f['publisher_player'] == 1.0 and f['camera_info_mismatch'] == 1.0
    assert f['rate_change'] == 0.0


def test_features_of_a_noisy_jittered_camera() -> None:
    rng = np.random.default_rng(3)
    clean = scene()
    evidence = StreamEvidence(publishers=('/usb_cam',), camera_info=CameraInfoSeen('cam', 192, 192))
    stamps = np.arange(40) * 33.0 + rng.normal(0, 1.0, 40)
    frames = [sensor_noise(clean, rng, 0.1, 2.0) for _ in range(40)]
    for obs in observations(stamps, stamps + 12.0, frames):
        evidence.add(obs)
    f = evidence.features()
    assert f['log_jitter_ms'] > -0.5
    assert abs(f['log_latency_ms'] - math.log10(12.01)) < 1e-6
    assert f['repeat_fraction'] == 0.0 and f['loop_fraction'] == 0.0
    assert f['publisher_player'] == 0.0 and f['publisher_unknown'] == 0.0 and f['camera_info_mismatch'] == 0.0
    assert f['log_noise_floor'] > 0.2


def test_a_switch_of_size_and_rate_shows() -> None:
    rng = np.random.default_rng(4)
    evidence = StreamEvidence(publishers=('/usb_cam',))
    small, big = scene(size=160), scene(size=192)
    frames = [sensor_noise(small, rng, 0.1, 2.0) for _ in range(30)] + [big] * 30
    stamps = np.concatenate([np.arange(30) * 33.3, 1000 + np.arange(30) * 66.7])
    for obs in observations(stamps, stamps + 5, frames):
        evidence.add(obs)
    f = evidence.features()
    assert f['geometry_changes'] > 0.0
    assert f['rate_change'] > 0.25
    assert f['noise_floor_change'] > 0.5
