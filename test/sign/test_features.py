"""Sign features: layout, rotation and frame-rate invariance, short windows, and the streaming
extractor agreeing with the batch computation."""
from __future__ import annotations

import numpy as np
import pytest

from attune.hands.types import HandFrame, HandObservation
from attune.sign.features import (
    FEATURE_DIM,
    GROUPS,
    IMAGE_PAIRS,
    SHAPE_PAIRS,
    group_mask,
    pad_window,
    point_features,
    trajectory_features,
)
from attune.sign.recognizer import HandStream, StreamOptions
from test.hands.test_normalize import hand


def moving_hand(frames: int = 12, step: float = 0.01) -> np.ndarray:
    base = hand()[:, :2]
    return np.stack([base + [step * t, 0.5 * step * t] for t in range(frames)])


def test_groups_tile_the_feature_vector() -> None:
    columns = sorted(c for start, stop in GROUPS.values() for c in range(start, stop))
    assert columns == list(range(FEATURE_DIM))
    assert group_mask(['presence']).sum() == 1 and group_mask(GROUPS).sum() == FEATURE_DIM
    pairs = [c for pair in IMAGE_PAIRS + SHAPE_PAIRS for c in pair]
    assert len(pairs) == len(set(pairs))
    with pytest.raises(ValueError, match='unknown feature group'):
        group_mask(['colour'])


def test_shape_is_rotation_invariant_and_orientation_turns() -> None:
    points = hand()[:, :2]
    angle = np.radians(40)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    turned = (points - points[0]) @ rotation.T + points[0]
    a, b = point_features(points[None]), point_features(turned[None])
    np.testing.assert_allclose(a[0, slice(*GROUPS['shape'])], b[0, slice(*GROUPS['shape'])], atol=1e-5)
    np.testing.assert_allclose(b[0, slice(*GROUPS['orientation'])], rotation @ a[0, slice(*GROUPS['orientation'])],
                               atol=1e-5)


def test_velocities_do_not_depend_on_the_frame_rate() -> None:
    at30 = point_features(moving_hand(7, 0.01), stamps_s=np.arange(7) / 30)
    at15 = point_features(moving_hand(4, 0.02), stamps_s=np.arange(4) / 15)  # same motion, half the frames
    motion = slice(*GROUPS['motion'])
    np.testing.assert_allclose(at30[1, motion], at15[1, motion], rtol=1e-5)
    assert np.abs(at30[1:, motion]).max() > 0
    assert not at30[0, motion].any()  # nothing to compare the first frame with


def test_missing_frames_are_zero_and_break_velocity() -> None:
    points = moving_hand(6)
    points[2] = np.nan
    features = point_features(points)
    assert not features[2].any()
    assert features[[0, 1, 3, 4, 5], GROUPS['presence'][0]].tolist() == [1, 1, 1, 1, 1]
    assert not features[3, slice(*GROUPS['motion'])].any()  # previous frame missing


def test_other_hand_and_trajectory_groups() -> None:
    points = moving_hand(3)
    other = points.copy()
    other[..., 0] += 0.3
    features = point_features(points, other=other)
    assert (features[:, GROUPS['other_presence'][0]] == 1).all()
    assert features[0, GROUPS['other_offset'][0]] > 0  # the other wrist is to the right
    tip = np.cumsum(np.full((16, 2), 0.01), axis=0)
    track = trajectory_features(tip, mirror=True)
    np.testing.assert_allclose(track[1:, slice(*GROUPS['trajectory'])], [[-0.01, 0.01]] * 15)


def test_short_sequences_are_padded_in_front() -> None:
    features = point_features(moving_hand(3))
    window = pad_window(features, 16)
    assert window.features.shape == (16, FEATURE_DIM) and window.valid_frames == 3
    np.testing.assert_array_equal(window.features[-3:], features)
    assert not window.features[:13, slice(*GROUPS['motion'])].any()
    assert pad_window(features[:0], 4).valid_frames == 0


def frames_of(points: np.ndarray, handedness: str = 'right', fps: float = 30.0) -> list[HandFrame]:
    out = []
    for t, p in enumerate(points):
        hands = () if not np.isfinite(p).all() else (
            HandObservation(handedness, 0.9, np.c_[p, np.zeros(21)].astype(np.float32)),)
        out.append(HandFrame(int(t * 1e9 / fps), 640, 480, hands))
    return out


def test_streaming_features_equal_the_batch_features() -> None:
    points = moving_hand(10)
    stream = HandStream(StreamOptions(mirrored_input=True))  # a right hand in a mirrored view: no flip
    streamed = np.stack([stream.step(f).features for f in frames_of(points)])
    batch = point_features(points.astype(np.float32), aspect=640 / 480, stamps_s=np.arange(10) / 30)
    np.testing.assert_allclose(streamed, batch, atol=1e-5)


def test_stream_bridges_a_short_gap_without_switching_hands() -> None:
    points = moving_hand(10)
    frames = frames_of(points)
    left = HandObservation('left', 0.9, np.c_[points[0] + [0.3, 0.1], np.zeros(21)].astype(np.float32))
    # frames 4 and 5: the right hand is lost while the left one is seen
    for t in (4, 5):
        frames[t] = HandFrame(frames[t].stamp_ns, 640, 480, (left,))
    stream = HandStream(StreamOptions(max_gap_frames=3))
    steps = [stream.step(f) for f in frames]
    assert [s.bridged for s in steps] == [False] * 4 + [True, True] + [False] * 4
    assert all(s.present for s in steps)
    assert steps[6].handedness == 'right'
    shape = slice(*GROUPS['shape'])
    np.testing.assert_array_equal(steps[4].features[shape], steps[3].features[shape])
    assert not steps[4].features[slice(*GROUPS['motion'])].any()
