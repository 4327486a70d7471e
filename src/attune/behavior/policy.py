"""Behaviour policies: a YAML file of rules (conditions over the interaction state -> robot actions),
validated when loaded, with every error naming the file, the line and the field at fault.

    policy: default_social_robot
    voice: {rate: 1.0, volume: 0.6}
    limits: {max_commands: 4, window_s: 10}
    rules:
      - name: smile_back
        on: state                       # state | sign | protocol | idle
        when: valence >= 0.5 and engagement >= 0.4
        cooldown_s: 20
        reason: "{person} smiled"
        actions:
          - led: warm_yellow
          - say: "You look happy!"

docs/behavior.md describes every field; shipped profiles are in config/policies/. The run-time side
(cooldowns, rate limit, priorities) is attune.behavior.engine.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from attune.behavior.commands import Action, Priority
from attune.behavior.conditions import Condition, ConditionError, compile_condition, render, template_fields
from attune.errors import ConfigError
from attune.resources import config_file


class PolicyError(ConfigError):
    """A policy file that cannot be used: the message starts with 'FILE:LINE: FIELD: '."""

    def __init__(self, path: str, line: int | None, field_path: str, message: str) -> None:
        where = f'{path}:{line}' if line else path
        super().__init__(f'{where}: {field_path}: {message}' if field_path else f'{where}: {message}')
        self.path, self.line, self.field, self.problem = path, line, field_path, message


TRIGGERS = ('state', 'sign', 'protocol', 'idle')
PRIORITIES = {p.name.lower(): p for p in Priority}
ACTIONS = tuple(a.key for a in Action)
SPEECH_ACTIONS = (Action.SAY, Action.NAME_CALL)

#: Colours every policy may name (r, g, b in [0, 1]); a policy's `colors` adds or overrides.
BUILTIN_COLORS: dict[str, tuple[float, float, float]] = {
    'off': (0.0, 0.0, 0.0), 'white': (1.0, 1.0, 1.0), 'dim_white': (0.3, 0.3, 0.3),
    'red': (1.0, 0.0, 0.0), 'green': (0.0, 1.0, 0.0), 'blue': (0.0, 0.0, 1.0),
    'yellow': (1.0, 1.0, 0.0), 'warm_yellow': (1.0, 0.75, 0.3), 'orange': (1.0, 0.5, 0.0),
    'soft_blue': (0.25, 0.45, 0.8), 'soft_green': (0.35, 0.75, 0.45), 'soft_purple': (0.55, 0.4, 0.75),
}

#: Named gaze targets: 'person' = the face of the rule's person; 'center' = straight ahead.
GAZE_NAMES = ('person', 'center')

#: Fused quantities of a person (each also as <name>_trend, change per second).
STATE_QUANTITIES = ('attention', 'engagement', 'valence', 'arousal', 'distress')


def condition_names(trigger: str, variables: Mapping[str, str]) -> dict[str, str]:
    """The names a condition (and a text template) of a rule with `on: trigger` may use."""
    names = {
        'robot_speaking': 'the robot is speaking', 'persons_present': 'number of persons present',
        'session_s': 'seconds since the behaviour node started', 'paused': 'a PAUSE is in effect',
        'protocol_active': 'a name-call protocol is waiting for its result',
        'name_calls': 'NAME_CALL commands issued this session', 'fired': 'times this rule fired this session',
    }
    if trigger != 'idle':
        names.update({'person': 'the face track id', 'present': 'the person is present',
                      'seen_s': 'seconds the person has been present'})
        for q in STATE_QUANTITIES:
            names[q] = f'fused {q}'
            names[f'{q}_trend'] = f'change of {q} per second'
    if trigger == 'sign':
        names.update({'sign.gloss': 'the recognized gloss (a sequence: its glosses joined, letters as one word)',
                      'sign.confidence': 'its probability', 'sign.source': 'the model',
                      'sign.continuous': 'a gloss sequence of continuous recognition',
                      'sign.sequence': "a sequence's glosses, space-separated ('' for an isolated sign)",
                      'sign.letter': 'an isolated fingerspelled letter (one-character gloss)',
                      'has_reply': 'the policy has a reply for the gloss',
                      'reply': 'the reply text'})
    if trigger == 'protocol':
        names.update({'protocol.name': "e.g. 'name_call'", 'protocol.status':
                      'responded | no_response | no_face | aborted | timeout',
                      'protocol.latency_s': 'stimulus to response, s', 'protocol.head_turn_deg': 'head turn',
                      'protocol.emotion': 'dominant emotion after the stimulus',
                      'protocol.valence': 'mean valence after the stimulus'})
    for key in variables:
        names.setdefault(key, 'policy variable')
    return names


# --- the parsed policy -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ActionSpec:
    """One action of a rule; text fields are templates filled at fire time."""

    action: Action
    text: str = ''
    speech_rate: float = 1.0
    volume: float = 0.5
    animation: str = ''
    color: tuple[float, float, float] = (0.0, 0.0, 0.0)
    gaze: str | tuple[float, float, float, str] = 'person'
    velocity: float = 0.0
    duration_s: float = 0.0
    line: int = 0


@dataclass(frozen=True)
class Rule:
    name: str
    trigger: str
    condition: Condition
    actions: tuple[ActionSpec, ...]
    priority: Priority = Priority.NORMAL
    cooldown_s: float = 10.0
    repeat: bool = False
    max_count: int = 0
    reason: str = ''
    line: int = 0


@dataclass(frozen=True)
class Limits:
    """Policy-wide safety limits (see docs/behavior.md)."""

    max_commands: int = 4
    window_s: float = 10.0
    max_rules_per_update: int = 1
    default_cooldown_s: float = 10.0
    hysteresis: float = 0.05
    idle_after_s: float = 3.0
    protocol_timeout_s: float = 20.0
    volume: tuple[float, float] = (0.0, 1.0)
    speech_rate: tuple[float, float] = (0.5, 1.5)
    approach_speed: float = 0.1
    forbid: tuple[str, ...] = ()
    speak_while_speaking: bool = False
    event_hold_s: float = 5.0


@dataclass(frozen=True)
class Policy:
    name: str
    rules: tuple[Rule, ...]
    limits: Limits = field(default_factory=Limits)
    description: str = ''
    variables: Mapping[str, str] = field(default_factory=dict)
    replies: Mapping[str, str] = field(default_factory=dict)
    path: str = ''

    def rules_on(self, trigger: str) -> list[Rule]:
        return [r for r in self.rules if r.trigger == trigger]


# --- YAML with line numbers ------------------------------------------------------------------------
class _LineDict(dict):
    """A mapping that remembers the line of each key (1-based) and its own line."""

    line = 0
    lines: dict


class _LineList(list):
    line = 0
    lines: list


class _Loader(yaml.SafeLoader):
    policy_path = '<policy>'


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    out = _LineDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        # Keys are taken as written: YAML 1.1 would read `on:`, `yes:` and `no:` as booleans.
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            raise PolicyError(loader.policy_path, key_node.start_mark.line + 1, '', 'a key must be text')
        if key in out:
            raise PolicyError(loader.policy_path, key_node.start_mark.line + 1, key,
                             'appears twice in the same mapping')
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _LineList:
    out = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


# --- validation ------------------------------------------------------------------------------------
class _Checker:
    """Walks the loaded YAML, raising PolicyError with file, line and field path."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, line: int | None, field_path: str, message: str) -> PolicyError:
        return PolicyError(self.path, line, field_path, message)

    def mapping(self, value: Any, line: int, where: str, allowed: tuple[str, ...],
                required: tuple[str, ...] = ()) -> _LineDict:
        if not isinstance(value, dict):
            raise self.error(line, where, f'must be a mapping, got {_kind(value)}')
        for key in value:
            if key not in allowed:
                raise self.error(_line(value, key), f'{where}.{key}' if where else key,
                                 f'unknown field; allowed: {", ".join(allowed)}')
        for key in required:
            if key not in value:
                raise self.error(getattr(value, 'line', line), where or '(top level)',
                                 f'missing required field {key!r}')
        return value

    def number(self, value: Any, line: int, where: str, lo: float = -math.inf, hi: float = math.inf) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(line, where, f'must be a number, got {_kind(value)}')
        if not lo <= value <= hi:
            raise self.error(line, where, f'must be in [{lo:g}, {hi:g}], got {value:g}')
        return float(value)

    def integer(self, value: Any, line: int, where: str, lo: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            raise self.error(line, where, f'must be an integer >= {lo}, got {value!r}')
        return value

    def text(self, value: Any, line: int, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(line, where, f'must be non-empty text, got {_kind(value)}')
        return value

    def boolean(self, value: Any, line: int, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(line, where, f'must be true or false, got {_kind(value)}')
        return value

    def range(self, value: Any, line: int, where: str, lo: float, hi: float) -> tuple[float, float]:
        if not isinstance(value, list) or len(value) != 2:
            raise self.error(line, where, f'must be [min, max], got {_kind(value)}')
        a = self.number(value[0], line, f'{where}[0]', lo, hi)
        b = self.number(value[1], line, f'{where}[1]', lo, hi)
        if a > b:
            raise self.error(line, where, f'min {a:g} is above max {b:g}')
        return a, b


def _line(container: Any, key: Any) -> int:
    lines = getattr(container, 'lines', None)
    if isinstance(lines, dict):
        return lines.get(key, getattr(container, 'line', 0))
    if isinstance(lines, list) and isinstance(key, int) and 0 <= key < len(lines):
        return lines[key]
    return getattr(container, 'line', 0)


def _kind(value: Any) -> str:
    if value is None:
        return 'nothing'
    if isinstance(value, dict):
        return 'a mapping'
    if isinstance(value, list):
        return 'a list'
    return repr(value)


_TOP_FIELDS = ('policy', 'description', 'variables', 'replies', 'voice', 'colors', 'limits', 'rules')
_RULE_FIELDS = ('name', 'on', 'when', 'actions', 'priority', 'cooldown_s', 'repeat', 'max_count',
                'hysteresis', 'reason')
_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


def parse_policy(text: str, path: str = '<policy>') -> Policy:
    """Parse and validate policy YAML text.

    Raises:
        PolicyError: the text is not valid YAML or not a valid policy; the message names the file,
            line and field.
    """
    loader = _Loader(text)
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
    c = _Checker(path)
    top = c.mapping(data, 1, '', _TOP_FIELDS, required=('policy', 'rules'))
    name = c.text(top['policy'], _line(top, 'policy'), 'policy')

    variables = _string_map(c, top, 'variables')
    replies = _string_map(c, top, 'replies')
    for gloss, reply in replies.items():
        _check_template(c, reply, _line(top['replies'], gloss), f'replies.{gloss}', condition_names('sign', variables))

    voice_rate, voice_volume = 1.0, 0.5
    if 'voice' in top:
        voice = c.mapping(top['voice'], _line(top, 'voice'), 'voice', ('rate', 'volume'))
        if 'rate' in voice:
            voice_rate = c.number(voice['rate'], _line(voice, 'rate'), 'voice.rate', 0.1, 4.0)
        if 'volume' in voice:
            voice_volume = c.number(voice['volume'], _line(voice, 'volume'), 'voice.volume', 0.0, 1.0)

    colors = dict(BUILTIN_COLORS)
    if 'colors' in top:
        value = top['colors']
        cmap = c.mapping(value, _line(top, 'colors'), 'colors', tuple(value) if isinstance(value, dict) else ())
        for key, value in cmap.items():
            colors[key] = _color(c, value, _line(cmap, key), f'colors.{key}', colors, allow_names=False)

    limits = _limits(c, top)
    rules_value = top['rules']
    if not isinstance(rules_value, list) or not rules_value:
        raise c.error(_line(top, 'rules'), 'rules', 'must be a non-empty list of rules')
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(rules_value):
        rule = _rule(c, raw, _line(rules_value, i), f'rules[{i}]', limits, variables, colors,
                     (voice_rate, voice_volume))
        if rule.name in seen:
            raise c.error(rule.line, f'rules[{i}].name',
                          f'{rule.name!r} is already the name of rules[{seen[rule.name]}]')
        seen[rule.name] = i
        rules.append(rule)
    description = str(top.get('description', '') or '')
    return Policy(name=name, rules=tuple(rules), limits=limits, description=description, variables=variables,
                  replies=replies, path=path)


def _string_map(c: _Checker, top: _LineDict, key: str) -> dict[str, str]:
    if key not in top:
        return {}
    value = top[key]
    mapping = c.mapping(value, _line(top, key), key, tuple(value or ()) if isinstance(value, dict) else ())
    out = {}
    for k, v in mapping.items():
        if not isinstance(v, (str, int, float)) or isinstance(v, bool):
            raise c.error(_line(mapping, k), f'{key}.{k}', f'must be text, got {_kind(v)}')
        if key == 'variables' and not _NAME_RE.match(k):
            raise c.error(_line(mapping, k), f'{key}.{k}', 'a variable name must be letters, digits and _')
        out[k] = str(v)
    return out


def _limits(c: _Checker, top: _LineDict) -> Limits:
    if 'limits' not in top:
        return Limits()
    fields = ('max_commands', 'window_s', 'max_rules_per_update', 'default_cooldown_s', 'hysteresis',
              'idle_after_s', 'protocol_timeout_s', 'volume', 'speech_rate', 'approach_speed', 'forbid',
              'speak_while_speaking', 'event_hold_s')
    m = c.mapping(top['limits'], _line(top, 'limits'), 'limits', fields)
    kw: dict[str, Any] = {}
    for key in ('max_commands', 'max_rules_per_update'):
        if key in m:
            kw[key] = c.integer(m[key], _line(m, key), f'limits.{key}', lo=1)
    for key, lo, hi in (('window_s', 0.1, 3600), ('default_cooldown_s', 0, 3600), ('hysteresis', 0, 1),
                        ('idle_after_s', 0, 3600), ('protocol_timeout_s', 0.5, 600), ('approach_speed', 0, 1),
                        ('event_hold_s', 0, 60)):
        if key in m:
            kw[key] = c.number(m[key], _line(m, key), f'limits.{key}', lo, hi)
    if 'volume' in m:
        kw['volume'] = c.range(m['volume'], _line(m, 'volume'), 'limits.volume', 0.0, 1.0)
    if 'speech_rate' in m:
        kw['speech_rate'] = c.range(m['speech_rate'], _line(m, 'speech_rate'), 'limits.speech_rate', 0.1, 4.0)
    if 'speak_while_speaking' in m:
        kw['speak_while_speaking'] = c.boolean(m['speak_while_speaking'], _line(m, 'speak_while_speaking'),
                                               'limits.speak_while_speaking')
    if 'forbid' in m:
        forbid = m['forbid']
        if not isinstance(forbid, list):
            raise c.error(_line(m, 'forbid'), 'limits.forbid', f'must be a list of actions, got {_kind(forbid)}')
        for j, a in enumerate(forbid):
            if a not in ACTIONS:
                raise c.error(_line(forbid, j), f'limits.forbid[{j}]',
                              f'unknown action {a!r}; known: {", ".join(ACTIONS)}')
        kw['forbid'] = tuple(forbid)
    return Limits(**kw)


def _rule(c: _Checker, raw: Any, line: int, where: str, limits: Limits, variables: Mapping[str, str],
          colors: Mapping[str, tuple[float, float, float]], voice: tuple[float, float]) -> Rule:
    m = c.mapping(raw, line, where, _RULE_FIELDS, required=('name', 'when', 'actions'))
    name = c.text(m['name'], _line(m, 'name'), f'{where}.name')
    if not _NAME_RE.match(name):
        raise c.error(_line(m, 'name'), f'{where}.name', f'{name!r}: use letters, digits and _')
    trigger = m.get('on', 'state')
    if trigger not in TRIGGERS:
        raise c.error(_line(m, 'on'), f'{where}.on', f'{trigger!r} is not a trigger; one of: {", ".join(TRIGGERS)}')
    priority_text = m.get('priority', 'normal')
    if priority_text not in PRIORITIES:
        raise c.error(_line(m, 'priority'), f'{where}.priority',
                      f'{priority_text!r}; one of: {", ".join(PRIORITIES)}')
    hysteresis = limits.hysteresis
    if 'hysteresis' in m:
        hysteresis = c.number(m['hysteresis'], _line(m, 'hysteresis'), f'{where}.hysteresis', 0.0, 1.0)
    names = condition_names(trigger, variables)
    when = m['when']
    if isinstance(when, bool):
        when = 'True' if when else 'False'
    if not isinstance(when, str):
        raise c.error(_line(m, 'when'), f'{where}.when', f'must be a condition (text), got {_kind(when)}')
    try:
        condition = compile_condition(when, names, hysteresis)
    except ConditionError as exc:
        raise c.error(_line(m, 'when'), f'{where}.when', f'{exc} (in {when!r} at column {exc.column + 1})') from None
    cooldown = limits.default_cooldown_s
    if 'cooldown_s' in m:
        cooldown = c.number(m['cooldown_s'], _line(m, 'cooldown_s'), f'{where}.cooldown_s', 0.0, 86400.0)
    repeat = c.boolean(m['repeat'], _line(m, 'repeat'), f'{where}.repeat') if 'repeat' in m else False
    max_count = c.integer(m['max_count'], _line(m, 'max_count'), f'{where}.max_count') if 'max_count' in m else 0
    reason = ''
    if 'reason' in m:
        reason = c.text(m['reason'], _line(m, 'reason'), f'{where}.reason')
        _check_template(c, reason, _line(m, 'reason'), f'{where}.reason', names)
    actions_value = m['actions']
    if not isinstance(actions_value, list) or not actions_value:
        raise c.error(_line(m, 'actions'), f'{where}.actions', 'must be a non-empty list of actions')
    actions = tuple(_action(c, a, _line(actions_value, j), f'{where}.actions[{j}]', limits, names, colors, voice)
                    for j, a in enumerate(actions_value))
    return Rule(name=name, trigger=trigger, condition=condition, actions=actions,
                priority=PRIORITIES[priority_text], cooldown_s=cooldown, repeat=repeat, max_count=max_count,
                reason=reason, line=line)


def _check_template(c: _Checker, template: str, line: int, where: str, names: Mapping[str, str]) -> None:
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


def _color(c: _Checker, value: Any, line: int, where: str, colors: Mapping[str, tuple[float, float, float]],
           allow_names: bool = True) -> tuple[float, float, float]:
    if isinstance(value, str) and allow_names:
        if value not in colors:
            raise c.error(line, where, f'unknown colour {value!r}; known: {", ".join(sorted(colors))}')
        return colors[value]
    if not isinstance(value, list) or len(value) != 3:
        raise c.error(line, where, f'a colour is a name or [r, g, b] in [0, 1], got {_kind(value)}')
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


def _action(c: _Checker, raw: Any, line: int, where: str, limits: Limits, names: Mapping[str, str],
            colors: Mapping[str, tuple[float, float, float]], voice: tuple[float, float]) -> ActionSpec:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise c.error(line, where, f'an action is a mapping with one key (one of: {", ".join(ACTIONS)}), '
                                   f'got {_kind(raw)}')
    (key, value), = raw.items()
    if key not in ACTIONS:
        raise c.error(line, where, f'unknown action {key!r}; known: {", ".join(ACTIONS)}')
    action = Action[key.upper()]
    where = f'{where}.{key}'
    if key in limits.forbid:
        raise c.error(line, where, f'action {key!r} is forbidden by limits.forbid in this policy')
    allowed = _ACTION_FIELDS[action]
    if isinstance(value, dict):
        fields = c.mapping(value, line, where, allowed)
        lines = fields
    elif value is None or value is True or value == {}:
        fields, lines = {}, None
    elif action in _SHORTHAND:
        fields, lines = {_SHORTHAND[action]: value}, None
    else:
        raise c.error(line, where, f'takes no value (write `- {key}: {{}}`), got {_kind(value)}')

    def at(k: str) -> int:
        return _line(lines, k) if lines is not None else line

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


# --- loading ---------------------------------------------------------------------------------------
def policy_dir() -> Path:
    """The shipped profiles (config/policies/)."""
    return config_file('policies')


def shipped_profiles() -> list[str]:
    return sorted(p.stem for p in policy_dir().glob('*.yaml'))


def resolve_policy_path(name_or_path: str) -> Path:
    """A shipped profile name ('asd_session') or a path to a YAML file.

    Raises:
        ConfigError: neither a shipped profile nor an existing file.
    """
    candidate = Path(name_or_path).expanduser()
    if candidate.suffix in ('.yaml', '.yml') or '/' in name_or_path:
        if not candidate.is_file():
            raise ConfigError(f'policy file {candidate} does not exist')
        return candidate
    shipped = policy_dir() / f'{name_or_path}.yaml'
    if shipped.is_file():
        return shipped
    raise ConfigError(f'unknown policy {name_or_path!r}: not a file, and the shipped profiles are '
                      f'{", ".join(shipped_profiles())}')


def load_policy(name_or_path: str | Path) -> Policy:
    """Load and validate a policy by shipped profile name or path.

    Raises:
        ConfigError: the policy does not exist; PolicyError (a ConfigError): it is invalid.
    """
    path = resolve_policy_path(str(name_or_path))
    try:
        text = path.read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f'cannot read policy file {path}: {exc}') from None
    return parse_policy(text, str(path))
