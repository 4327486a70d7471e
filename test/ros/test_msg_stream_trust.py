"""attune/StreamTrust <-> StreamTrustReport (attune.ros.msg_stream_trust)."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.integrity.model import StreamVerdict
from attune.integrity.trust import StreamTrustReport
from attune.ros import msg_stream_trust
from test.ros.round_trip import assert_same, floats32, header, labels, stamps, unit32, words

pytestmark = pytest.mark.ros


@st.composite
def reports(draw: st.DrawFn) -> StreamTrustReport:
    topic, frames = draw(words), draw(st.integers(0, 2**32 - 1))
    if not draw(st.booleans()):
        return StreamTrustReport(topic, frames)
    names = tuple(draw(st.lists(words, max_size=6, unique=True)))
    values = tuple(draw(st.lists(floats32, min_size=len(names), max_size=len(names))))
    verdict = StreamVerdict(draw(unit32), draw(st.booleans()), draw(labels))
    return StreamTrustReport.judged(topic, frames, verdict, dict(zip(names, values)))


@settings(max_examples=60, deadline=None)
@given(reports(), stamps)
def test_stream_trust_round_trip(report: StreamTrustReport, stamp_ns: int) -> None:
    assert_same(msg_stream_trust.from_msg(msg_stream_trust.to_msg(report, header(stamp_ns))), report)


def test_a_guard_not_ready_gives_no_trust() -> None:
    report = msg_stream_trust.from_msg(msg_stream_trust.to_msg(StreamTrustReport('/camera/image_raw', 3), header(1)))
    assert math.isnan(report.trust) and not report.live
