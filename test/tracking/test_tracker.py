"""MultiObjectTracker: stable ids, confirmation, deletion, crossings, fast motion, time jumps."""
from __future__ import annotations

import pytest

from attune.errors import ConfigError
from attune.geometry import BoundingBox
from attune.tracking import MultiObjectTracker, TrackerOptions


def box(cx: float, cy: float, size: float = 0.2) -> BoundingBox:
    return BoundingBox(cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2)


def ids(matches) -> list[str]:
    return [m.track.id for m in matches]


def test_one_moving_face_keeps_one_id() -> None:
    tracker = MultiObjectTracker(TrackerOptions(min_hits=3, deterministic_ids=True))
    seen = []
    for i in range(60):
        seen.append(ids(tracker.update([box(0.3 + 0.005 * i, 0.5)], i / 30)))
    assert seen[0] == seen[1] == []          # tentative until min_hits
    assert all(s == ['f1'] for s in seen[2:])


def test_min_hits_one_reports_immediately() -> None:
    tracker = MultiObjectTracker(TrackerOptions(min_hits=1, deterministic_ids=True))
    assert ids(tracker.update([box(0.5, 0.5)], 0.0)) == ['f1']


def test_short_gap_keeps_the_id_long_gap_ends_it() -> None:
    tracker = MultiObjectTracker(TrackerOptions(min_hits=1, max_misses=5, deterministic_ids=True))
    t = 0.0
    for _ in range(5):
        tracker.update([box(0.5, 0.5)], t)
        t += 0.1
    for _ in range(5):                       # 5 misses: still alive
        assert tracker.update([], t) == []
        t += 0.1
    assert ids(tracker.update([box(0.5, 0.5)], t)) == ['f1']
    for _ in range(6):                       # 6 misses: gone
        t += 0.1
        tracker.update([], t)
    assert ids(tracker.update([box(0.5, 0.5)], t + 0.1)) == ['f2']


def test_a_tentative_track_dies_on_its_first_miss() -> None:
    tracker = MultiObjectTracker(TrackerOptions(min_hits=3, deterministic_ids=True))
    tracker.update([box(0.5, 0.5)], 0.0)
    tracker.update([], 0.1)
    assert tracker.tracks == ()


def test_two_faces_crossing_keep_their_ids() -> None:
    """Constant-velocity prediction carries each track through the crossing."""
    tracker = MultiObjectTracker(TrackerOptions(min_hits=1, deterministic_ids=True))
    first = tracker.update([box(0.2, 0.5, 0.15), box(0.8, 0.5, 0.15)], 0.0)
    left_id, right_id = ids(first)
    for i in range(1, 31):
        x = 0.02 * i
        matches = tracker.update([box(0.2 + x, 0.45, 0.15), box(0.8 - x, 0.55, 0.15)], i / 30)
        by_index = {m.index: m.track.id for m in matches}
        assert by_index == {0: left_id, 1: right_id}


def test_fast_motion_without_overlap_is_matched_by_centre_distance() -> None:
    tracker = MultiObjectTracker(TrackerOptions(min_hits=1, max_center_distance=1.0, deterministic_ids=True))
    tracker.update([box(0.3, 0.5, 0.1)], 0.0)
    assert ids(tracker.update([box(0.42, 0.5, 0.1)], 0.033)) == ['f1']   # no overlap, 0.85 diagonals away


def test_far_jump_starts_a_new_track() -> None:
    tracker = MultiObjectTracker(TrackerOptions(min_hits=1, max_center_distance=0.5, deterministic_ids=True))
    tracker.update([box(0.2, 0.5, 0.1)], 0.0)
    assert ids(tracker.update([box(0.8, 0.5, 0.1)], 0.033)) == ['f2']


def test_time_going_backwards_resets_but_never_reuses_ids() -> None:
    tracker = MultiObjectTracker(TrackerOptions(min_hits=1, deterministic_ids=True))
    tracker.update([box(0.5, 0.5)], 10.0)
    assert ids(tracker.update([box(0.5, 0.5)], 1.0)) == ['f2']


def test_random_ids_are_five_letters_and_unique() -> None:
    tracker = MultiObjectTracker(TrackerOptions(min_hits=1), seed=3)
    made = set()
    for i in range(50):
        tracker.reset()
        (match,) = tracker.update([box(0.5, 0.5)], float(i))
        assert len(match.track.id) == 5 and match.track.id.isalpha()
        made.add(match.track.id)
    assert len(made) == 50


def test_ages() -> None:
    tracker = MultiObjectTracker(TrackerOptions(min_hits=1, deterministic_ids=True))
    for i in range(4):
        (match,) = tracker.update([box(0.5, 0.5)], 1.0 + 0.5 * i)
    assert match.track.hits == 4
    assert match.track.age_s == pytest.approx(1.5)


@pytest.mark.parametrize('bad', [{'iou_threshold': 0.0}, {'min_hits': 0}, {'max_misses': -1},
                                 {'max_center_distance': -0.1}])
def test_bad_options_are_refused_by_name(bad: dict) -> None:
    (name,) = bad
    with pytest.raises(ConfigError, match=name):
        TrackerOptions(**bad)
