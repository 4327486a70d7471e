"""Regression (issue 14): tiny or odd but well-formed frames from another source do not blind the
face node. A probe's 1x1 mono8 images between real frames reset the tracker's consecutive-detection
count, so 1 of 40 real frames carried a face; now they are another source, dropped and counted."""
from __future__ import annotations

import numpy as np
import pytest

from attune.imaging.source import SourceGate, SourceKey, SourceVerdict
from attune.ros.images import image_msg
from test.nodes.test_face_node import Harness, header, portrait_rgb


def test_gate_keeps_the_stream_and_follows_a_camera_that_really_changed() -> None:
    gate = SourceGate(switch_after=3)
    cam, tiny, other = SourceKey(640, 480, 'cam'), SourceKey(1, 1, 'cam'), SourceKey(640, 480, 'evil')
    assert gate.admit(cam) is SourceVerdict.ADOPTED
    for _ in range(10):  # interleaved: never replaces the stream
        assert gate.admit(tiny) is SourceVerdict.OTHER and gate.admit(other) is SourceVerdict.OTHER
        assert gate.admit(cam) is SourceVerdict.SAME
    restarted = SourceKey(1280, 720, 'cam')
    assert [gate.admit(restarted) for _ in range(3)] == [SourceVerdict.OTHER, SourceVerdict.OTHER,
                                                         SourceVerdict.ADOPTED]
    assert gate.stream == restarted and gate.admit(cam) is SourceVerdict.OTHER


@pytest.mark.ros
def test_face_keeps_its_id_and_is_reported_with_tiny_frames_interleaved(spinner) -> None:
    h = Harness(spinner, '/test_other_sources/image_raw', min_hits=3)
    rgb = portrait_rgb()
    tiny_mono = image_msg(np.zeros((1, 1), np.uint8), 'mono8', header(0))
    odd = image_msg(np.zeros((48, 64, 3), np.uint8), 'rgb8', header(0))
    odd.header.frame_id = 'another_camera'
    ns = 1_700_000_000_000_000_000
    for _ in range(12):
        ns += 33_333_333
        h.send(image_msg(rgb, 'rgb8', header(ns)), expect_faces=1)
        for extra in (tiny_mono, odd):
            extra.header.stamp = header(ns + 1000).stamp
            h.send(extra)
    ns += 33_333_333
    h.send(image_msg(rgb, 'rgb8', header(ns)), expect_faces=1)  # also flushes the odd frames before it
    assert len(h.faces) == 13  # one Faces per real frame, none for the others
    ids = [[f.id for f in m.faces] for m in h.faces]
    assert ids[:2] == [[], []] and all(i == ['f1'] for i in ids[2:]), ids  # min_hits 3, then always f1
    assert h.node.bad_input.counts.get('other_source') == 24
    values = {v.key: v.value for v in h.node.diagnostics().status[0].values}
    assert values['dropped_other_source'] == '24'
