"""The name-call protocol on a real clip: d3.mp4 (../shared/data/video/faces), where the woman holds her
head turned ~20 deg to her left (frames ~258-278) and turns back to face the camera (frontal by ~frame 292,
then a surprised face). Annotated by eye on frames 246-302 (every 4th): turned at 258-278, the turn under
way at 282-290, frontal at 290-298. A call at frame 276 therefore has a response latency between
(286 - 276) / 30 and (296 - 276) / 30 s. The test also recomputes the latency from the yaw trace with a few
lines of numpy (the definition in docs/asd_emotion.md) and expects the protocol to agree exactly."""
from __future__ import annotations

import cv2
import pytest

from attune.behavior.protocol import FaceSample, NameCallOptions, NameCallProtocol, ProtocolStatus
from test.behavior.protocol.reference import reference_latency
from test.conftest import shared_data

FIRST, LAST, CALL = 245, 330, 276
FPS = 30.0


def stamp(frame: int) -> int:
    return int(round(frame / FPS * 1e9))


@pytest.fixture(scope='module')
def yaw_trace() -> dict[int, float]:
    from attune.face import FacePipeline

    capture = cv2.VideoCapture(str(shared_data('video', 'faces', 'd3.mp4')))
    assert capture.get(cv2.CAP_PROP_FPS) == FPS
    yaws = {}
    with FacePipeline(seed=0) as pipeline:
        for frame in range(LAST + 1):
            ok, bgr = capture.read()
            assert ok
            if frame < FIRST:
                continue
            result = pipeline.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), stamp(frame))
            if result.faces:  # the tracker reports a face from its third detection on
                (face,) = result.faces
                yaws[frame] = face.head_pose.yaw
    assert min(yaws) < CALL - 15
    capture.release()
    return yaws


@pytest.mark.slow
def test_the_protocol_measures_the_head_turn_of_a_real_clip(yaw_trace: dict[int, float]) -> None:
    options = NameCallOptions(baseline_s=0.5, response_window_s=1.5, affect_window_s=0.5)
    protocol = NameCallProtocol(options)
    results = []
    for frame, yaw in sorted(yaw_trace.items()):
        if frame == CALL:
            results += protocol.start(stamp(CALL), '', 'Anna')  # no id: the most central face
        results += protocol.observe_faces(stamp(frame), [FaceSample('f1', yaw, 0.5)])
    (result,) = [r for r in results if r.final]
    assert result.status == ProtocolStatus.RESPONDED and result.target_id == 'f1'
    assert 15 < result.yaw_before_deg < 25  # turned to her left, toward the image's right
    assert result.head_turn_deg >= options.turn_threshold_deg  # the largest turn up to the decision
    expected = reference_latency({stamp(f): y for f, y in yaw_trace.items()}, stamp(CALL), options.baseline_s,
                                 options.turn_threshold_deg, options.confirm_samples)
    assert result.latency_s == pytest.approx(expected, abs=1e-6)
    assert (286 - CALL) / FPS <= result.latency_s <= (296 - CALL) / FPS  # the annotation by eye
