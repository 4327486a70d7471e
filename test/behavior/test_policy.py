"""Policy files: the shipped profiles load, and every kind of mistake is refused with file, line and field."""
from __future__ import annotations

import pytest

from attune.behavior.commands import Action, Priority
from attune.behavior.conditions import ConditionError, compile_condition
from attune.behavior.policy import PolicyError, load_policy, parse_policy, shipped_profiles
from attune.errors import ConfigError

GOOD = """\
policy: test
limits:
  volume: [0.2, 0.6]
  forbid: [approach]
rules:
  - name: comfort
    on: state
    priority: high
    when: present and distress >= 0.6
    actions:
      - led: soft_blue
      - say: {text: "It's okay, {person}.", rate: 0.8, volume: 0.4}
"""


def test_shipped_profiles_load() -> None:
    assert {'default', 'asd_session', 'signing_partner'} <= set(shipped_profiles())
    asd = load_policy('asd_session')
    assert asd.limits.volume[1] <= 0.5 and asd.limits.speech_rate[1] <= 0.9
    assert {'approach', 'gesture'} <= set(asd.limits.forbid)
    (name_call,) = [r for r in asd.rules if any(a.action == Action.NAME_CALL for a in r.actions)]
    assert name_call.max_count == 3
    for rule in asd.rules:  # calm: soft voice everywhere
        for a in rule.actions:
            if a.action in (Action.SAY, Action.NAME_CALL):
                assert a.volume <= 0.5 and a.speech_rate <= 0.9
    partner = load_policy('signing_partner')
    assert partner.replies['hello'] and partner.rules_on('sign')


def test_a_good_policy() -> None:
    p = parse_policy(GOOD, 'good.yaml')
    (rule,) = p.rules
    assert (rule.name, rule.trigger, rule.priority) == ('comfort', 'state', Priority.HIGH)
    led, say = rule.actions
    assert led.color == (0.25, 0.45, 0.8) and led.line == 11
    assert (say.text, say.speech_rate, say.volume) == ("It's okay, {person}.", 0.8, 0.4)


def bad(text: str, match: str) -> PolicyError:
    with pytest.raises(PolicyError, match=match) as info:
        parse_policy(text, 'p.yaml')
    return info.value


@pytest.mark.parametrize(('old', 'new', 'line', 'field', 'words'), [
    ('      - led: soft_blue', '      - dance: {}', 11, 'rules[0].actions[0]', "unknown action 'dance'"),
    ('distress >= 0.6', 'distres >= 0.6', 9, 'rules[0].when', "unknown name 'distres'"),
    ('distress >= 0.6', 'distress >=', 9, 'rules[0].when', 'syntax error'),
    ('distress >= 0.6', '__import__("os")', 9, 'rules[0].when', 'unknown function'),
    ('distress >= 0.6', 'sign.gloss == "hi"', 9, 'rules[0].when', "unknown name 'sign.gloss'"),
    ('priority: high', 'priority: urgent', 8, 'rules[0].priority', "'urgent'"),
    ('on: state', 'on: timer', 7, 'rules[0].on', 'not a trigger'),
    ('volume: 0.4}', 'volume: 0.9}', 12, 'rules[0].actions[1].say.volume', 'outside limits.volume'),
    ('led: soft_blue', 'led: plaid', 11, 'rules[0].actions[0].led.color', "unknown colour 'plaid'"),
    ('led: soft_blue', 'approach: 0.05', 11, 'rules[0].actions[0].approach', 'forbidden'),
    ('rate: 0.8', 'rate: fast', 12, 'rules[0].actions[1].say.rate', 'must be a number'),
    ('{person}', '{persn}', 12, 'rules[0].actions[1].say.text', 'unknown name {persn}'),
    ('forbid: [approach]', 'forbid: [teleport]', 4, 'limits.forbid[0]', "unknown action 'teleport'"),
    ('    priority: high\n', '    priority: high\n    cooldown: 3\n', 9, 'rules[0].cooldown', 'unknown field'),
])
def test_mistakes_name_file_line_and_field(old, new, line, field, words) -> None:
    assert old in GOOD
    error = bad(GOOD.replace(old, new, 1), words)
    assert str(error).startswith(f'p.yaml:{line}: {field}: '), str(error)
    assert (error.line, error.field) == (line, field)


def test_structural_mistakes() -> None:
    assert bad('policy: x\nrules: []\n', 'non-empty list').line == 2
    assert bad('rules: []\n', "missing required field 'policy'").line == 1
    assert bad(GOOD.replace('    when: present and distress >= 0.6\n', ''), "missing required field 'when'").line == 6
    e = bad(GOOD + GOOD[GOOD.index('  - name'):], "already the name of rules")
    assert (e.line, e.field) == (13, 'rules[1].name')
    e = bad('policy: x\nrules:\n  - name: a\n    when: [\n', 'not valid YAML')
    assert e.line == 5
    e = bad(GOOD.replace('policy: test\n', 'policy: test\npolicy: again\n'), 'appears twice')
    assert e.line == 2


def test_ConfigError_for_unknown_profiles_and_files(tmp_path) -> None:  # noqa: N802
    with pytest.raises(ConfigError, match='shipped profiles are'):
        load_policy('nonexistent_profile')
    with pytest.raises(ConfigError, match='does not exist'):
        load_policy(str(tmp_path / 'missing.yaml'))
    path = tmp_path / 'mine.yaml'
    path.write_text(GOOD.replace('led: soft_blue', 'blink: 3'))
    with pytest.raises(PolicyError, match=rf"^{path}:11: rules\[0\]\.actions\[0\]: unknown action 'blink'"):
        load_policy(str(path))


NAMES = {'x': '', 'y': '', 'sign.gloss': ''}


def test_conditions_and_hysteresis() -> None:
    c = compile_condition('x >= 0.6 and not y < 0.2', NAMES, hysteresis=0.1)
    assert c({'x': 0.6, 'y': 0.5})
    assert not c({'x': 0.55, 'y': 0.5})
    assert c({'x': 0.55, 'y': 0.5}, held=True)  # relaxed to x >= 0.5 ...
    assert not c({'x': 0.45, 'y': 0.5}, held=True)
    # under not, the inner y < 0.2 shifts the other way (y < 0.1), so `not y < 0.2` is relaxed to y >= 0.1
    assert c({'x': 0.9, 'y': 0.15}, held=True)
    assert not c({'x': 0.9, 'y': 0.15}, held=False)
    assert not c({'x': 0.9, 'y': 0.05}, held=True)
    reversed_ = compile_condition('0.6 <= x', NAMES, hysteresis=0.1)
    assert reversed_({'x': 0.55}, held=True) and not reversed_({'x': 0.55})
    assert not c({'x': float('nan'), 'y': 0.5})  # unknown: false
    assert compile_condition("sign.gloss in ['hi', 'hello']", NAMES)({'sign.gloss': 'hi'})
    assert compile_condition('known(x) and abs(x - 1) < 0.1', NAMES)({'x': 1.05})
    assert not compile_condition('known(x)', NAMES)({'x': float('nan')})
    for text in ('x.__class__', 'open("f")', 'x[0]', 'lambda: 1', '(x := 1)'):
        with pytest.raises(ConditionError):
            compile_condition(text, NAMES)


def test_cli_policy_check_and_list(tmp_path, capsys) -> None:
    from attune.cli.main import main

    assert main(['policy', 'check', 'asd_session']) == 0
    assert "policy 'asd_session', 6 rules; at most 3 commands per 15 s" in capsys.readouterr().out
    path = tmp_path / 'p.yaml'
    path.write_text(GOOD.replace('led: soft_blue', 'moonwalk: {}'))
    assert main(['policy', 'check', str(path)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"ERROR: {path}:11: rules[0].actions[0]: unknown action 'moonwalk'; known: say, gesture, led, gaze, pause, "
        'resume, stop, name_call, approach')
    assert main(['policy', 'list']) == 0
    assert 'signing_partner' in capsys.readouterr().out
