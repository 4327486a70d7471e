"""HandSearch: the hand analyzer runs on every frame while a hand is tracked, at search_rate_hz otherwise."""
from __future__ import annotations

import pytest

from attune.hands.search import HandSearch

FRAME_NS = round(1e9 / 30)


def run(search: HandSearch, hands_per_frame: list[int]) -> list[bool]:
    """Which frames of a 30 fps stream were analysed (hands_per_frame: what the analyzer would find)."""
    analysed = []
    for i, hands in enumerate(hands_per_frame):
        stamp = 1_000_000_000 + i * FRAME_NS
        due = search.due(stamp)
        if due:
            search.analysed(stamp, hands)
        analysed.append(due)
    return analysed


def test_without_hands_every_third_frame_of_a_30_fps_camera_is_searched_at_10_hz() -> None:
    assert run(HandSearch(10.0), [0] * 9) == [True, False, False] * 3


def test_a_found_hand_is_followed_on_every_frame_and_searching_resumes_when_it_is_gone() -> None:
    hands = [0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]
    # frame 3 is a search (a hand found), 4-7 are tracked, 7 loses it, 10 is the next search
    assert run(HandSearch(10.0), hands) == [True, False, False, True, True, True, True, True, False, False, True]


def test_rate_zero_analyses_every_frame() -> None:
    assert all(run(HandSearch(0.0), [0] * 10))


def test_stamps_going_back_start_a_new_search() -> None:
    search = HandSearch(1.0)
    search.analysed(5_000_000_000, 0)
    assert not search.due(5_500_000_000)
    assert search.due(1_000_000_000)  # a replayed bag starts again


def test_negative_rate_is_refused() -> None:
    with pytest.raises(ValueError, match='rate_hz'):
        HandSearch(-1.0)
