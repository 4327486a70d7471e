"""Regression (issue 14): the bad-input reporter cannot be made to log or keep more by the sender's text."""
from __future__ import annotations

from attune.ros.throttle import MAX_LINE_CHARS, OTHER_KIND, ThrottledReporter, printable


def test_unique_attacker_text_is_one_line_per_kind_and_period() -> None:
    lines: list[str] = []
    now = [0.0]
    reporter = ThrottledReporter(lines.append, period_s=5.0, clock=lambda: now[0])
    for i in range(238):
        encoding = f'enc{i}' + 'x' * 20_000  # unique 20 KB encodings, as in the probe
        reporter.report('UnsupportedEncodingError', f'image encoding {encoding!r} is not supported')
    assert len(lines) == 1 and len(lines[0]) <= MAX_LINE_CHARS
    assert reporter.counts == {'UnsupportedEncodingError': 238}
    now[0] = 6.0
    reporter.report('UnsupportedEncodingError', f"image encoding {'enc7' + 'x' * 20_000!r} is not supported")
    assert lines[-1].startswith("image encoding 'enc7xxx")
    assert lines[-1].endswith('... (237 more like this since the last report)')
    assert sum(len(line) for line in lines) < 2 * MAX_LINE_CHARS + 60


def test_problems_of_one_kind_are_told_apart_by_attunes_wording_only() -> None:
    lines: list[str] = []
    reporter = ThrottledReporter(lines.append)
    for step in range(50):
        reporter.report('ImageError', f'image step {step} is shorter than one row')
        reporter.report('ImageError', f'image data has {step} bytes')
        reporter.report('UnsupportedEncodingError', f"image encoding 'x{step}' is not supported")
    assert len(lines) == 3 and reporter.counts == {'ImageError': 100, 'UnsupportedEncodingError': 50}
    for i in range(1000):  # messages that start with varying letters: the state stays bounded
        reporter.report('ImageError', 'abcdefghij'[i % 10] * (i % 30 + 1) + ' 1')
    assert len(reporter._last) <= 4 * reporter.max_kinds


def test_state_is_bounded_whatever_the_kinds() -> None:
    reporter = ThrottledReporter(lambda line: None, max_kinds=8)
    for i in range(10_000):
        reporter.report(f'kind{i}', 'x')
    assert len(reporter.counts) <= 9 and len(reporter._last) <= 4 * 8 + 9 and len(reporter._suppressed) <= 41
    assert reporter.counts[OTHER_KIND] == 10_000 - 8 and reporter.total == 10_000


def test_attacker_bytes_are_escaped_and_cut() -> None:
    lines: list[str] = []
    ThrottledReporter(lines.append).report('command', 'bad text \x1b[2J\nFAKE LOG LINE \u202e\x00')
    (line,) = lines
    assert '\x1b' not in line and '\n' not in line and '\x00' not in line and '\u202e' not in line
    assert '\\x1b[2J\\nFAKE LOG LINE' in line
    assert printable('é ok') == 'é ok'
    cut = printable('y' * 10_000, limit=50)
    assert len(cut) == 50 and cut.endswith('...')
    assert ThrottledReporter(lambda line: None).report('spaces and ünïcode!', 'x')  # kind sanitized
