"""The interaction node's parameter table (attune.nodes.interaction_node re-exports it) and the core
options built from its values: fusion (attune.behavior.fusion) and the name-call protocol."""
from __future__ import annotations

from typing import Any

from attune.behavior.fusion import FusionOptions
from attune.behavior.protocol import NameCallOptions
from attune.ros.msg_person_matches import person_matches_parameter
from attune.ros.params import ParamSpec
from attune.ros.shell import stale_input_parameter

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('publish_rate_hz', 30.0, 'Most states per second and person; new input is published at the '
              'next tick of this rate.', min=1.0, max=200.0),
    ParamSpec('heartbeat_s', 0.5, 'Every person is republished at least this often (staleness decay shows '
              'even without input).', min=0.05, max=10.0, dynamic=True),
    ParamSpec('fresh_s', 1.0, 'Inputs up to this age count fully.', min=0.0, max=60.0, dynamic=True),
    ParamSpec('half_life_s', 1.0, 'Past fresh_s, an input\'s weight halves every half_life_s.', min=0.01,
              max=600.0, dynamic=True),
    ParamSpec('max_age_s', 5.0, 'Inputs older than this count for nothing (the quantity becomes unknown).',
              min=0.1, max=3600.0, dynamic=True),
    ParamSpec('smoothing_tau_s', 0.3, 'Time constant of each input stream\'s moving average (0 = none).',
              min=0.0, max=60.0, dynamic=True),
    ParamSpec('attention_cone_deg', 45.0, 'Head rotation away from the camera at which attention reaches 0.',
              min=1.0, max=180.0, dynamic=True),
    ParamSpec('presence_on_s', 0.0, 'Seen continuously this long before a person is present.', min=0.0,
              max=60.0, dynamic=True),
    ParamSpec('presence_off_s', 1.0, 'Unseen this long before a person is no longer present.', min=0.0,
              max=600.0, dynamic=True),
    ParamSpec('forget_after_s', 10.0, 'A person without any input this long is dropped.', min=0.1, max=3600.0,
              dynamic=True),
    ParamSpec('min_weight', 0.05, 'A quantity whose total weight is below this is unknown (NaN).', min=0.0,
              max=10.0, dynamic=True),
    ParamSpec('weight_presence', 0.5, 'Base weight of presence in engagement.', min=0.0, max=10.0, dynamic=True),
    ParamSpec('weight_attention', 1.0, 'Base weight of attention (head pose) in engagement.', min=0.0, max=10.0,
              dynamic=True),
    ParamSpec('weight_expression', 1.0, 'Base weight of facial expression.', min=0.0, max=10.0, dynamic=True),
    ParamSpec('weight_affect', 1.0, 'Base weight of affect estimates (AffectState).', min=0.0, max=10.0,
              dynamic=True),
    ParamSpec('weight_sign', 1.0, 'Base weight of recognized signs in engagement.', min=0.0, max=10.0,
              dynamic=True),
    ParamSpec('gate_while_speaking', False, 'Ignore expression, affect and sign input while the robot speaks.',
              dynamic=True),
    ParamSpec('fallback_hfov_deg', 60.0, 'Horizontal field of view used to place a face without head pose '
              '(InteractionState.face_position, for `gaze: person`).', min=10.0, max=170.0, dynamic=True),
    ParamSpec('command_topic', '/attune/behavior/command', 'attune/BehaviorCommand topic: NAME_CALL starts the '
              'name-call protocol, STOP aborts it.'),
    ParamSpec('response_window_s', 5.0, 'Name call: time after the call within which a head turn counts as a '
              'response.', min=0.1, max=60.0, dynamic=True),
    ParamSpec('turn_threshold_deg', 15.0, 'Name call: head-yaw change toward the robot that counts as '
              'orienting; a child facing the robot closer than this at the call cannot respond (ABORTED, '
              'already_facing).', min=1.0, max=90.0, dynamic=True),
    ParamSpec('confirm_samples', 2, 'Name call: consecutive frames the turn must hold.', min=1, max=30, dynamic=True),
    ParamSpec('baseline_s', 1.0, 'Name call: the head yaw before the call is the median over this time.',
              min=0.0, max=10.0, dynamic=True),
    ParamSpec('presence_s', 0.5, 'Name call: the face must be seen within this time of the call (else NO_FACE).',
              min=0.0, max=5.0, dynamic=True),
    ParamSpec('lost_timeout_s', 1.0, 'Name call: a face unseen this long at the end of the window has left '
              '(ABORTED).', min=0.05, max=30.0, dynamic=True),
    ParamSpec('affect_window_s', 3.0, 'Name call: the response affect is the mean over this time after the call.',
              min=0.0, max=60.0, dynamic=True),
    ParamSpec('min_latency_s', 0.0, 'Name call: turns crossing the threshold earlier than this after the call '
              'do not count.', min=0.0, max=10.0, dynamic=True),
    ParamSpec('speaking_wait_s', 2.0, 'Name call: how long after the command a speech onset (rising edge of '
              "/attune/robot/speaking) is awaited before the command's stamp is used instead.", min=0.0, max=10.0,
              dynamic=True),
    ParamSpec('stimulus_delay_s', 0.0, 'Name call: added to the stimulus time (speech onset or command stamp), '
              'e.g. the time from the start of speech to the name within it.', min=0.0, max=10.0, dynamic=True),
    ParamSpec('frame_timeout_s', 2.0, 'Name call: without frames for this long (wall time), running calls are '
              'decided on the frame clock extrapolated by the wall time since the last frame.', min=0.1, max=60.0),
    person_matches_parameter('who each face is, in the state; the protocol and its log follow the person'),
    ParamSpec('participant', '', "The session's participant: an enrolled person's id or name (attune people "
              "list); name calls are measured on their face only, other faces are ignored. '' = any face."),
    ParamSpec('stream_trust_topic', '/attune/stream_trust', "attune/StreamTrust (stream_guard_node): the camera's "
              "live-camera score in every state; '' = none."),
    ParamSpec('stream_trust_max_age_s', 5.0, 'A live-camera score older than this is unknown (NaN) in the '
              'states.', min=0.1, max=600.0, dynamic=True),
    ParamSpec('session_log_dir', '', "Folder of the therapist's JSONL name-call log; '' = no log."),
    ParamSpec('session_name', '', 'Added to the name-call log file name (e.g. a session or child code).'),
    stale_input_parameter('any perception input (faces, expressions, affect, signs)', 'it comes back'),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)

PROTOCOL_PARAMS = ('response_window_s', 'turn_threshold_deg', 'confirm_samples', 'baseline_s', 'presence_s',
                    'lost_timeout_s', 'affect_window_s', 'min_latency_s')


def fusion_options(p: dict[str, Any]) -> FusionOptions:
    return FusionOptions(
        weights={m: p[f'weight_{m}'] for m in ('presence', 'attention', 'expression', 'affect', 'sign')},
        fresh_s=p['fresh_s'], half_life_s=p['half_life_s'], max_age_s=p['max_age_s'],
        smoothing_tau_s=p['smoothing_tau_s'], attention_cone_deg=p['attention_cone_deg'],
        presence_on_s=p['presence_on_s'], presence_off_s=p['presence_off_s'], forget_after_s=p['forget_after_s'],
        min_weight=p['min_weight'], gate_while_speaking=p['gate_while_speaking'],
        stream_trust_max_age_s=p['stream_trust_max_age_s'])


def protocol_options(p: dict[str, Any]) -> NameCallOptions:
    values = {name: p[name] for name in PROTOCOL_PARAMS}
    history = values['baseline_s'] + max(values['response_window_s'], values['affect_window_s']) + 5.0
    return NameCallOptions(**values, history_s=history)
