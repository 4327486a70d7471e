"""Recording blocks, block splits (no frame of a test block, nor its neighbours, in training), the
public data sets, and a user's own recordings."""
from __future__ import annotations

import numpy as np
import pytest

from attune.errors import ConfigError
from attune.sign.datasets import (
    LandmarkDataset,
    Segment,
    blocks_from_breaks,
    jump_breaks,
    load_builtin,
    load_dataset,
    load_recordings,
    save_recording,
    split_blocks,
    trajectory_breaks,
    windows,
)
from attune.sign.features import FEATURE_DIM
from test.conftest import shared_data
from test.hands.test_normalize import hand


def test_blocks_from_breaks_and_jumps() -> None:
    breaks = np.array([True, False, False, True, False, False, False, False])
    assert blocks_from_breaks(breaks).tolist() == [0, 0, 0, 1, 1, 1, 1, 1]
    assert blocks_from_breaks(breaks, max_block=2).tolist() == [0, 0, 1, 2, 2, 3, 3, 4]
    values = np.r_[np.linspace(0, 0.01, 5), np.linspace(0.5, 0.51, 5)][:, None]
    assert np.flatnonzero(jump_breaks(values, factor=6, minimum=0.03)).tolist() == [5]


def test_trajectory_blocks_follow_the_sliding_window() -> None:
    rng = np.random.default_rng(0)
    path = np.cumsum(rng.normal(0, 0.01, (40, 2)), axis=0)
    rows = np.stack([path[i:i + 16] - path[i] for i in range(20)])
    rows = np.concatenate([rows[:10], rows[12:]])  # two rows lost: the recording paused
    breaks = trajectory_breaks(rows)
    assert np.flatnonzero(breaks).tolist() == [0, 10]


def toy_dataset() -> LandmarkDataset:
    segments = []
    for run, gloss in enumerate('ab'):
        for b in range(4):
            rows = np.arange(b * 10, b * 10 + 10)
            segments.append(Segment(gloss=gloss, block=run * 4 + b, kind='hand',
                                    points=np.repeat(hand(b)[None, :, :2], 10, 0), run=run, rows=rows))
    return LandmarkDataset('toy', ('a', 'b'), tuple(segments), groups=('shape', 'presence'))


def test_split_holds_out_whole_blocks_and_guards_their_neighbours() -> None:
    split = split_blocks(toy_dataset(), test_fraction=0.25, seed=1, guard=3)
    assert len(split.test_blocks) == 2
    assert {s.gloss for s in split.test.segments} == {'a', 'b'}
    assert not {s.block for s in split.train.segments} & set(split.test_blocks)
    for test in split.test.segments:
        for train in split.train.segments:
            if train.run == test.run:
                gap = np.abs(train.rows[:, None] - test.rows[None, :]).min()
                assert gap > 3
    assert split.dropped_frames > 0
    tail = split_blocks(toy_dataset(), test_fraction=0.25, strategy='tail', guard=0)
    assert set(tail.test_blocks) == {3, 7}
    with pytest.raises(ConfigError):
        split_blocks(toy_dataset(), test_fraction=1.0)


def test_windows_cut_consecutive_frames_and_pad_short_segments() -> None:
    x, y, _ = windows(toy_dataset(), length=4, stride=3)
    assert x.shape == (8 * 3, 4, FEATURE_DIM) and set(y.tolist()) == {0, 1}
    x, _, _ = windows(toy_dataset(), length=16)
    assert x.shape == (8, 16, FEATURE_DIM)  # 10-frame segments: one padded window each


@pytest.mark.parametrize(('name', 'glosses', 'frames'), [
    ('asl_alphabet', 26, 8399), ('kinivi_handshape', 4, 3827), ('kinivi_trajectory', 4, 4116)])
def test_public_data_sets_load_with_blocks(name, glosses, frames) -> None:
    dataset = load_builtin(name, shared_data('hands'))
    assert len(dataset.glosses) == glosses
    count = frames if name != 'kinivi_trajectory' else frames * 16  # 16-step tracks
    assert dataset.frames() == count
    split = split_blocks(dataset)
    test_rows = {(s.run, int(r)) for s in split.test.segments for r in s.rows}
    train_rows = {(s.run, int(r)) for s in split.train.segments for r in s.rows}
    assert not test_rows & train_rows
    assert len({s.block for s in dataset.segments}) >= 4 * glosses  # several blocks per gloss to hold out


def test_a_users_recordings_round_trip(tmp_path) -> None:
    rng = np.random.default_rng(0)
    for gloss in ('hello', 'thanks'):
        for n in range(2):
            right = np.stack([hand(n)] * 12) + rng.normal(0, 0.001, (12, 21, 3))
            left = np.full_like(right, np.nan)
            left[3:6] = right[3:6] + [0.2, 0.0, 0.0]
            save_recording(tmp_path / gloss / f'take{n}.npz', right=right, left=left,
                           stamps_ns=np.arange(12) * 33_333_333, image_size=(640, 480), mirrored=False)
    dataset = load_dataset(str(tmp_path), tmp_path)
    assert dataset.glosses == ('hello', 'thanks')
    assert len(dataset.segments) == 4 and all(s.mirror for s in dataset.segments)  # right hand, not mirrored
    assert 'other_shape' in dataset.groups
    features = dataset.segments[0].features()
    assert features.shape == (12, FEATURE_DIM) and np.isfinite(features).all()
    (tmp_path / 'vocabulary.json').write_text('{"glosses": ["thanks", "hello"]}')
    assert load_recordings(tmp_path).glosses == ('thanks', 'hello')


def test_bad_recordings_are_refused_naming_the_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match='no recordings'):
        load_recordings(tmp_path)
    (tmp_path / 'wave').mkdir()
    np.savez(tmp_path / 'wave' / 'bad.npz', right=np.zeros((3, 21, 3)))
    with pytest.raises(ConfigError, match=r'bad\.npz: missing'):
        load_recordings(tmp_path)
    with pytest.raises(ConfigError, match='unknown data set'):
        load_dataset('no_such_set', tmp_path)
