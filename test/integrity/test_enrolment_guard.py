"""The stream guard at enrolment (attune.integrity.enrolment): streams made from a real recording the
model never saw: a camera-like one is trusted, a replayed still or a loop is refused with reasons, and
the override is spelled out for the consent note."""
from __future__ import annotations

import numpy as np
import pytest

from attune.integrity.enrolment import EnrolmentStreamGuard, UntrustedStreamError, camera_publisher, require_live
from attune.integrity.simulate import make_stream
from test.conftest import shared_data

VIDEO = 'd3.mp4'  # not in the shipped model's training recordings (test_stream_guard_quality checks)


def judged(kind: str, seed: int):
    stream = make_stream(kind, str(shared_data('video', 'faces', VIDEO)), np.random.default_rng(seed))
    guard = EnrolmentStreamGuard(stream.publishers, stream.camera_info)
    for rgb, stamp, receive, frame_id in zip(stream.frames, stream.stamps_ns, stream.receive_ns, stream.frame_ids):
        guard.add(rgb, int(stamp), int(receive), frame_id)
    return guard.check()


def test_a_camera_like_stream_is_trusted_and_recorded_as_such() -> None:
    check = judged('genuine', 3)
    assert check.ready and check.live and check.judgements >= 4 and check.frames == 90
    note = require_live(check, 'camera 0', allow_untrusted=False)
    assert note.startswith('[stream guard] camera 0: live camera (score')


@pytest.mark.parametrize(('kind', 'seed'), [('static_image', 1), ('looped_video', 2)])
def test_a_replayed_still_or_loop_is_refused_unless_overridden(kind: str, seed: int) -> None:
    check = judged(kind, seed)
    assert check.ready and not check.live and check.reasons
    with pytest.raises(UntrustedStreamError, match=r'refusing to enrol from bag b: not a live camera.*--allow-'):
        require_live(check, 'bag b', allow_untrusted=False)
    note = require_live(check, 'bag b', allow_untrusted=True)
    assert 'not a live camera' in note and 'overridden with --allow-untrusted' in note


def test_too_few_frames_cannot_be_judged_and_are_refused() -> None:
    guard = EnrolmentStreamGuard(('usb_cam',))
    frame = np.zeros((64, 64, 3), np.uint8)
    for i in range(5):
        guard.add(frame, i * 33_000_000, i * 33_000_000 + 5_000_000)
    check = guard.check()
    assert not check.ready and not check.live and 'only 5 frames' in check.describe()
    with pytest.raises(UntrustedStreamError):
        require_live(check, 'bag b', allow_untrusted=False)


def test_camera_devices_are_named_like_publishers(tmp_path) -> None:
    from attune.integrity.evidence import publisher_kind

    names = ('Integrated Camera: Integrated C', 'OBS Virtual Camera', 'Dummy video device', 'USB Video Device')
    for index, name in enumerate(names):
        (tmp_path / f'video{index}').mkdir()
        (tmp_path / f'video{index}' / 'name').write_text(name + '\n')
    kinds = [publisher_kind(camera_publisher(i, tmp_path)) for i in range(5)]
    assert kinds == ['camera', 'player', 'player', 'camera', 'camera']   # video5: no sysfs entry
    assert camera_publisher(1, tmp_path) == 'virtual_camera/obs_virtual_camera'
