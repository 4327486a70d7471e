"""Parsing and validating a behaviour policy (no rclpy): YAML text -> Policy, or a PolicyError naming
the file, the line and the field. The policy model is attune.behavior.policy."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from attune.behavior.commands import Action
from attune.behavior.conditions import ConditionError, compile_condition, render, template_fields
from attune.behavior.policy import (
    ACTIONS,
    BUILTIN_COLORS,
    GAZE_NAMES,
    PRIORITIES,
    SPEECH_ACTIONS,
    STATE_QUANTITIES,
    TRIGGERS,
    ActionSpec,
    Limits,
    Policy,
    PolicyError,
    Rule,
    condition_names,
)
from attune.behavior.policy_yaml import Checker, LineDict, LineLoader, kind_of, line_of

_TOP_FIELDS = ('policy', 'description', 'variables', 'replies', 'voice', 'colors', 'limits', 'rules')
_RULE_FIELDS = ('name', 'on', 'when', 'actions', 'priority', 'cooldown_s', 'repeat', 'max_count',
                'max_per_person', 'hysteresis', 'reason')
_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


def parse_policy_text(text: str, path: str = '<policy>') -> Policy:
    """Parse and validate policy YAML text.

    Raises:
        PolicyError: the text is not valid YAML or not a valid policy; the message names the file,
            line and field.
    """
    loader = LineLoader(text)
    loader.policy_path = path
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise PolicyError(path, mark.line + 1 if mark else None, '', f'not valid YAML: {exc.problem}') from None
    except yaml.YAMLError as exc:
        raise PolicyError(path, None, '', f'not valid YAML: {exc}') from None
    finally:
        loader.dispose()
    c = Checker(path)
    top = c.mapping(data, 1, '', _TOP_FIELDS, required=('policy', 'rules'))
    name = c.text(top['policy'], line_of(top, 'policy'), 'policy')

    variables = _string_map(c, top, 'variables')
    replies = _string_map(c, top, 'replies')
    for gloss, reply in replies.items():
        _check_template(c, reply, line_of(top['replies'], gloss), f'replies.{gloss}',
                        condition_names('sign', variables))

    voice_rate, voice_volume = 1.0, 0.5
    if 'voice' in top:
        voice = c.mapping(top['voice'], line_of(top, 'voice'), 'voice', ('rate', 'volume'))
        if 'rate' in voice:
            voice_rate = c.number(voice['rate'], line_of(voice, 'rate'), 'voice.rate', 0.1, 4.0)
        if 'volume' in voice:
            voice_volume = c.number(voice['volume'], line_of(voice, 'volume'), 'voice.volume', 0.0, 1.0)

    colors = dict(BUILTIN_COLORS)
    if 'colors' in top:
        value = top['colors']
        cmap = c.mapping(value, line_of(top, 'colors'), 'colors', tuple(value) if isinstance(value, dict) else ())
        for key, value in cmap.items():
            colors[key] = _color(c, value, line_of(cmap, key), f'colors.{key}', colors, allow_names=False)

    limits = _limits(c, top)
    rules_value = top['rules']
    if not isinstance(rules_value, list) or not rules_value:
        raise c.error(line_of(top, 'rules'), 'rules', 'must be a non-empty list of rules')
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(rules_value):
        rule = _rule(c, raw, line_of(rules_value, i), f'rules[{i}]', limits, variables, colors,
                     (voice_rate, voice_volume))
        if rule.name in seen:
            raise c.error(rule.line, f'rules[{i}].name',
                          f'{rule.name!r} is already the name of rules[{seen[rule.name]}]')
        seen[rule.name] = i
        rules.append(rule)
    description = str(top.get('description', '') or '')
    return Policy(name=name, rules=tuple(rules), limits=limits, description=description, variables=variables,
                  replies=replies, path=path)


def _string_map(c: Checker, top: LineDict, key: str) -> dict[str, str]:
    if key not in top:
        return {}
    value = top[key]
    mapping = c.mapping(value, line_of(top, key), key, tuple(value or ()) if isinstance(value, dict) else ())
    out = {}
    for k, v in mapping.items():
        if not isinstance(v, (str, int, float)) or isinstance(v, bool):
            raise c.error(line_of(mapping, k), f'{key}.{k}', f'must be text, got {kind_of(v)}')
        if key == 'variables' and not _NAME_RE.match(k):
            raise c.error(line_of(mapping, k), f'{key}.{k}', 'a variable name must be letters, digits and _')
        out[k] = str(v)
    return out


def _limits(c: Checker, top: LineDict) -> Limits:
    if 'limits' not in top:
        return Limits()
    fields = ('max_commands', 'window_s', 'max_rules_per_update', 'default_cooldown_s', 'hysteresis',
              'idle_after_s', 'protocol_timeout_s', 'volume', 'speech_rate', 'approach_speed', 'forbid',
              'speak_while_speaking', 'event_hold_s', 'min_stream_trust', 'require_stream_trust')
    m = c.mapping(top['limits'], line_of(top, 'limits'), 'limits', fields)
    kw: dict[str, Any] = {}
    for key in ('max_commands', 'max_rules_per_update'):
        if key in m:
            kw[key] = c.integer(m[key], line_of(m, key), f'limits.{key}', lo=1)
    for key, lo, hi in (('window_s', 0.1, 3600), ('default_cooldown_s', 0, 3600), ('hysteresis', 0, 1),
                        ('idle_after_s', 0, 3600), ('protocol_timeout_s', 0.5, 600), ('approach_speed', 0, 1),
                        ('event_hold_s', 0, 60), ('min_stream_trust', -1, 1)):
        if key in m:
            kw[key] = c.number(m[key], line_of(m, key), f'limits.{key}', lo, hi)
    if 'volume' in m:
        kw['volume'] = c.range(m['volume'], line_of(m, 'volume'), 'limits.volume', 0.0, 1.0)
    if 'speech_rate' in m:
        kw['speech_rate'] = c.range(m['speech_rate'], line_of(m, 'speech_rate'), 'limits.speech_rate', 0.1, 4.0)
    if 'require_stream_trust' in m:
        kw['require_stream_trust'] = c.boolean(m['require_stream_trust'], line_of(m, 'require_stream_trust'),
                                               'limits.require_stream_trust')
    if 'speak_while_speaking' in m:
        kw['speak_while_speaking'] = c.boolean(m['speak_while_speaking'], line_of(m, 'speak_while_speaking'),
                                               'limits.speak_while_speaking')
    if 'forbid' in m:
        forbid = m['forbid']
        if not isinstance(forbid, list):
            raise c.error(line_of(m, 'forbid'), 'limits.forbid', f'must be a list of actions, got {kind_of(forbid)}')
        for j, a in enumerate(forbid):
            if a not in ACTIONS:
                raise c.error(line_of(forbid, j), f'limits.forbid[{j}]',
                              f'unknown action {a!r}; known: {", ".join(ACTIONS)}')
        kw['forbid'] = tuple(forbid)
    return Limits(**kw)


def _rule(c: Checker, raw: Any, line: int, where: str, limits: Limits, variables: Mapping[str, str],
          colors: Mapping[str, tuple[float, float, float]], voice: tuple[float, float]) -> Rule:
    m = c.mapping(raw, line, where, _RULE_FIELDS, required=('name', 'when', 'actions'))
    name = c.text(m['name'], line_of(m, 'name'), f'{where}.name')
    if not _NAME_RE.match(name):
        raise c.error(line_of(m, 'name'), f'{where}.name', f'{name!r}: use letters, digits and _')
    trigger = m.get('on', 'state')
    if trigger not in TRIGGERS:
        raise c.error(line_of(m, 'on'), f'{where}.on', f'{trigger!r} is not a trigger; one of: {", ".join(TRIGGERS)}')
    priority_text = m.get('priority', 'normal')
    if priority_text not in PRIORITIES:
        raise c.error(line_of(m, 'priority'), f'{where}.priority',
                      f'{priority_text!r}; one of: {", ".join(PRIORITIES)}')
    hysteresis = limits.hysteresis
    if 'hysteresis' in m:
        hysteresis = c.number(m['hysteresis'], line_of(m, 'hysteresis'), f'{where}.hysteresis', 0.0, 1.0)
    names = condition_names(trigger, variables)
    when = m['when']
    if isinstance(when, bool):
        when = 'True' if when else 'False'
    if not isinstance(when, str):
        raise c.error(line_of(m, 'when'), f'{where}.when', f'must be a condition (text), got {kind_of(when)}')
    try:
        condition = compile_condition(when, names, hysteresis)
    except ConditionError as exc:
        raise c.error(line_of(m, 'when'), f'{where}.when', f'{exc} (in {when!r} at column {exc.column + 1})') from None
    cooldown = limits.default_cooldown_s
    if 'cooldown_s' in m:
        cooldown = c.number(m['cooldown_s'], line_of(m, 'cooldown_s'), f'{where}.cooldown_s', 0.0, 86400.0)
    repeat = c.boolean(m['repeat'], line_of(m, 'repeat'), f'{where}.repeat') if 'repeat' in m else False
    max_count = c.integer(m['max_count'], line_of(m, 'max_count'), f'{where}.max_count') if 'max_count' in m else 0
    max_per_person = (c.integer(m['max_per_person'], line_of(m, 'max_per_person'), f'{where}.max_per_person')
                      if 'max_per_person' in m else 0)
    reason = ''
    if 'reason' in m:
        reason = c.text(m['reason'], line_of(m, 'reason'), f'{where}.reason')
        _check_template(c, reason, line_of(m, 'reason'), f'{where}.reason', names)
    actions_value = m['actions']
    if not isinstance(actions_value, list) or not actions_value:
        raise c.error(line_of(m, 'actions'), f'{where}.actions', 'must be a non-empty list of actions')
    actions = tuple(_action(c, a, line_of(actions_value, j), f'{where}.actions[{j}]', limits, names, colors, voice)
                    for j, a in enumerate(actions_value))
    return Rule(name=name, trigger=trigger, condition=condition, actions=actions,
                priority=PRIORITIES[priority_text], cooldown_s=cooldown, repeat=repeat, max_count=max_count,
                max_per_person=max_per_person, reason=reason, line=line)


def _check_template(c: Checker, template: str, line: int, where: str, names: Mapping[str, str]) -> None:
    try:
        fields = template_fields(template)
    except ValueError as exc:
        raise c.error(line, where, f'bad template {template!r}: {exc}') from None
    for f in fields:
        if f not in names:
            raise c.error(line, where, f'unknown name {{{f}}} in {template!r}; known: {", ".join(sorted(names))}')
    sample = {n: 0.5 if n in _NUMERIC_HINT else 'x' for n in names}
    try:
        render(template, sample)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise c.error(line, where, f'bad template {template!r}: {exc}') from None


_NUMERIC_HINT = {*STATE_QUANTITIES, *(f'{q}_trend' for q in STATE_QUANTITIES), 'persons_present', 'session_s',
                 'name_calls', 'fired', 'seen_s', 'sign.confidence', 'protocol.latency_s',
                 'protocol.head_turn_deg', 'protocol.valence'}


def _color(c: Checker, value: Any, line: int, where: str, colors: Mapping[str, tuple[float, float, float]],
           allow_names: bool = True) -> tuple[float, float, float]:
    if isinstance(value, str) and allow_names:
        if value not in colors:
            raise c.error(line, where, f'unknown colour {value!r}; known: {", ".join(sorted(colors))}')
        return colors[value]
    if not isinstance(value, list) or len(value) != 3:
        raise c.error(line, where, f'a colour is a name or [r, g, b] in [0, 1], got {kind_of(value)}')
    r, g, b = (c.number(v, line, f'{where}[{k}]', 0.0, 1.0) for k, v in enumerate(value))
    return r, g, b


_ACTION_FIELDS = {
    Action.SAY: ('text', 'rate', 'volume'),
    Action.NAME_CALL: ('text', 'rate', 'volume'),
    Action.GESTURE: ('animation', 'duration_s'),
    Action.LED: ('color', 'duration_s'),
    Action.GAZE: ('target', 'x', 'y', 'z', 'frame'),
    Action.PAUSE: ('duration_s',),
    Action.RESUME: (),
    Action.STOP: (),
    Action.APPROACH: ('velocity', 'duration_s'),
}
#: The field a scalar shorthand fills: `say: "Hi"` == `say: {text: "Hi"}`.
_SHORTHAND = {Action.SAY: 'text', Action.NAME_CALL: 'text', Action.GESTURE: 'animation', Action.LED: 'color',
              Action.GAZE: 'target', Action.PAUSE: 'duration_s', Action.APPROACH: 'velocity'}


def _action(c: Checker, raw: Any, line: int, where: str, limits: Limits, names: Mapping[str, str],
            colors: Mapping[str, tuple[float, float, float]], voice: tuple[float, float]) -> ActionSpec:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise c.error(line, where, f'an action is a mapping with one key (one of: {", ".join(ACTIONS)}), '
                                   f'got {kind_of(raw)}')
    (key, value), = raw.items()
    if key not in ACTIONS:
        raise c.error(line, where, f'unknown action {key!r}; known: {", ".join(ACTIONS)}')
    action = Action[key.upper()]
    where = f'{where}.{key}'
    if key in limits.forbid:
        raise c.error(line, where, f'action {key!r} is forbidden by limits.forbid in this policy')
    allowed = _ACTION_FIELDS[action]
    fields: dict[str, Any]
    lines: LineDict | None
    if isinstance(value, dict):
        fields = lines = c.mapping(value, line, where, allowed)
    elif value is None or value is True or value == {}:
        fields, lines = {}, None
    elif action in _SHORTHAND:
        fields, lines = {_SHORTHAND[action]: value}, None
    else:
        raise c.error(line, where, f'takes no value (write `- {key}: {{}}`), got {kind_of(value)}')

    def at(k: str) -> int:
        return line_of(lines, k) if lines is not None else line

    kw: dict[str, Any] = {'action': action, 'line': line}
    if action in SPEECH_ACTIONS:
        if 'text' not in fields:
            raise c.error(line, where, 'missing required field \'text\'')
        kw['text'] = c.text(fields['text'], at('text'), f'{where}.text')
        _check_template(c, kw['text'], at('text'), f'{where}.text', names)
        kw['speech_rate'] = c.number(fields.get('rate', voice[0]), at('rate'), f'{where}.rate', 0.1, 4.0)
        kw['volume'] = c.number(fields.get('volume', voice[1]), at('volume'), f'{where}.volume', 0.0, 1.0)
        lo, hi = limits.speech_rate
        if not lo <= kw['speech_rate'] <= hi:
            raise c.error(at('rate'), f'{where}.rate', f'speech rate {kw["speech_rate"]:g} is outside '
                                                       f'limits.speech_rate [{lo:g}, {hi:g}]')
        lo, hi = limits.volume
        if not lo <= kw['volume'] <= hi:
            raise c.error(at('volume'), f'{where}.volume', f'volume {kw["volume"]:g} is outside '
                                                           f'limits.volume [{lo:g}, {hi:g}]')
    elif action == Action.GESTURE:
        if 'animation' not in fields:
            raise c.error(line, where, 'missing required field \'animation\'')
        kw['animation'] = c.text(fields['animation'], at('animation'), f'{where}.animation')
    elif action == Action.LED:
        if 'color' not in fields:
            raise c.error(line, where, 'missing required field \'color\'')
        kw['color'] = _color(c, fields['color'], at('color'), f'{where}.color', colors)
    elif action == Action.GAZE:
        target = fields.get('target')
        if target is not None:
            if target not in GAZE_NAMES:
                raise c.error(at('target'), f'{where}.target', f'{target!r}; one of: {", ".join(GAZE_NAMES)} '
                                                               '(or give x, y, z and frame)')
            kw['gaze'] = target
        elif all(k in fields for k in ('x', 'y', 'z', 'frame')):
            x, y, z = (c.number(fields[k], at(k), f'{where}.{k}') for k in ('x', 'y', 'z'))
            kw['gaze'] = (x, y, z, c.text(fields['frame'], at('frame'), f'{where}.frame'))
        else:
            raise c.error(line, where, 'needs target (person | center) or all of x, y, z, frame')
    elif action == Action.APPROACH:
        if 'velocity' not in fields:
            raise c.error(line, where, 'missing required field \'velocity\'')
        kw['velocity'] = c.number(fields['velocity'], at('velocity'), f'{where}.velocity', -1.0, 1.0)
        if abs(kw['velocity']) > limits.approach_speed:
            raise c.error(at('velocity'), f'{where}.velocity', f'|{kw["velocity"]:g}| m/s exceeds '
                                                               f'limits.approach_speed {limits.approach_speed:g}')
    if 'duration_s' in fields:
        kw['duration_s'] = c.number(fields['duration_s'], at('duration_s'), f'{where}.duration_s', 0.0, 3600.0)
    elif action == Action.PAUSE:
        raise c.error(line, where, 'missing required field \'duration_s\'')
    return ActionSpec(**kw)

