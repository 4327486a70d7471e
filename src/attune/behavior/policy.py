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

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from attune.behavior.commands import Action, Priority
from attune.behavior.conditions import Condition
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
        'stream_trust': "the camera stream's live-camera score in [0, 1] (NaN: unknown)",
        'stream_live': "the stream guard's verdict: a live camera",
        'stream_trusted': 'the score reaches limits.min_stream_trust (unknown: limits.require_stream_trust)',
    }
    if trigger != 'idle':
        names.update({'person': 'the face track id', 'present': 'the person is present',
                      'seen_s': 'seconds the person has been present',
                      'identified': 'the identity node has decided who the face is',
                      'known_person': 'the face is an enrolled person', 'enrolled_id': "their person id ('' unknown)",
                      'person_name': "their enrolled display name ('' unknown)",
                      'identity_confidence': 'similarity of the identification (NaN until identified)',
                      'participant': "the face is the session's bound participant",
                      'participant_bound': 'the session has a bound participant (interaction node)'})
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
    max_per_person: int = 0
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
    min_stream_trust: float = -1.0
    require_stream_trust: bool = False


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


def parse_policy(text: str, path: str = '<policy>') -> Policy:
    """Parse and validate policy YAML text (attune.behavior.policy_parse).

    Raises:
        PolicyError: the YAML or a field is invalid; the message names the file, line and field.
    """
    from attune.behavior.policy_parse import parse_policy_text  # the parser imports this module's model

    return parse_policy_text(text, path)

