"""interaction_node: perception in, one explainable attune/InteractionState per person and the
discrete attune/InteractionEvents (signs, protocol results) out: the only input of the behaviour node.

A thin lifecycle node around attune.behavior.fusion.InteractionFusion (the math is documented there
and in docs/behavior.md) and the name-call protocol (attune.behavior.protocol.NameCallRunner,
docs/asd_emotion.md). Inputs are timed by the node clock at reception (sim time under
use_sim_time), so a replayed bag behaves like the live run; each state carries the header stamp of
the newest input behind it. The protocol runs on the image stamps' clock.

Subscribes:  /attune/faces            attune/Faces         presence, attention, where the face is; head yaw
                                                           for the name call (reliable, depth 30)
             /attune/expression       attune/Expression    valence, arousal, distress
             /attune/affect           attune/AffectState   engagement, valence, arousal, distress; the
                                                           affect after a name call
             /attune/sign             attune/Sign          engagement (signing to the robot); relayed
                                                           as a SIGN event, attributed to a person
             /attune/robot/speaking   std_msgs/Bool        robot_speaking (optional gating); the speech
                                                           onset of a name call
             <command_topic>          attune/BehaviorCommand  the stimuli of protocols: NAME_CALL starts
                                                           a name call, STOP aborts it
             <person_matches_topic>   attune/PersonMatches who each face is (identity_node): the state's
                                                           identity; protocol state follows the person
             <stream_trust_topic>     attune/StreamTrust   the camera's live-camera score (stream_guard_node)
Publishes:   /attune/interaction_state   attune/InteractionState: a person's state when new input
             arrived (at most publish_rate_hz), and every person every heartbeat_s (so staleness shows)
             /attune/interaction/events  attune/InteractionEvent: every sign (attributed), every name
             call's WAITING state and result
Writes:      <session_log_dir>/asd_session_<time>[_<session_name>].jsonl (name calls) when set
"""
from __future__ import annotations

import math
import time
from typing import Any

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool, Header

from attune.behavior.commands import Action
from attune.behavior.fusion import FusionOptions, InteractionFusion
from attune.behavior.identities import InteractionIdentities
from attune.behavior.protocol import FaceSample, NameCallOptions, NameCallResult, NameCallRunner, PendingCall
from attune.behavior.protocol.session_log import NameCallLog
from attune.errors import AttuneError
from attune.ros import qos
from attune.ros.behavior_msgs import (
    affect_input,
    command_from_msg,
    expression_input,
    face_inputs,
    sign_input,
    state_to_msg,
)
from attune.ros.identity_msgs import matches_from_msg, person_matches_parameter
from attune.ros.interaction_event_msgs import protocol_event_to_msg, sign_event_to_msg
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.shell import Diagnostics, NodeShell
from attune.ros.stamps import from_ns, to_ns

NODE_NAME = 'interaction_node'
STATE_TOPIC = '/attune/interaction_state'
EVENT_TOPIC = '/attune/interaction/events'
SPEAKING_TOPIC = '/attune/robot/speaking'

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
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)

#: Faces in: reliable, a second of a 30 fps stream (the name call needs every frame's head pose).
FACES_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=30, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.VOLATILE)

_PROTOCOL_PARAMS = ('response_window_s', 'turn_threshold_deg', 'confirm_samples', 'baseline_s', 'presence_s',
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
    values = {name: p[name] for name in _PROTOCOL_PARAMS}
    history = values['baseline_s'] + max(values['response_window_s'], values['affect_window_s']) + 5.0
    return NameCallOptions(**values, history_s=history)


class InteractionNode(NodeShell):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('interaction state', working='fusing', idle='no input in the last 5 s')
    COUNTERS = ('states_published', 'events_published', 'name_calls')

    def __init__(self, **kwargs: Any) -> None:
        self._fusion: InteractionFusion | None = None
        self._runner: NameCallRunner | None = None
        self._people: InteractionIdentities | None = None
        self._log: NameCallLog | None = None
        self._results: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._last_heartbeat = -1e18
        self._frame_id = ''
        self._speaking_sub: Any = None
        self.published = 0
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    def configure(self) -> None:
        p = self.params
        self._fusion = InteractionFusion(fusion_options(p))
        self._people = InteractionIdentities(p['participant'])
        self._fusion.participant_bound = self._people.bound
        if self._people.bound and not p['person_matches_topic']:
            self.get_logger().warning("participant set, but person_matches_topic is '': no face can be theirs")
        self._runner = NameCallRunner(protocol_options(p), speaking_wait_s=p['speaking_wait_s'],
                                      frame_timeout_s=p['frame_timeout_s'], stimulus_delay_s=p['stimulus_delay_s'])
        if p['session_log_dir']:
            self._log = NameCallLog(p['session_log_dir'], p['session_name'],
                                    {'node': self.get_name(), 'protocol': {
                                        name: p[name] for name in (*_PROTOCOL_PARAMS, 'speaking_wait_s',
                                                                   'stimulus_delay_s')},
                                     'participant_bound': bool(p['participant'])})
            self.get_logger().info(f'name-call log: {self._log.path}')
        self._pub = self.add_publisher(self._msgs.InteractionState, STATE_TOPIC, qos.RESULTS)
        self._events = self.add_publisher(self._msgs.InteractionEvent, EVENT_TOPIC, qos.RESULTS)
        self.add_timer(1.0 / self.params['publish_rate_hz'], self._publish)
        self.add_timer(0.2, self._on_protocol_timer)

    def activate(self) -> None:
        m = self._msgs
        self.add_subscription(m.Faces, '/attune/faces', self._on_faces, FACES_QOS)
        self.add_subscription(m.Expression, '/attune/expression', self._on_expression, qos.RESULTS)
        self.add_subscription(m.AffectState, '/attune/affect', self._on_affect, qos.RESULTS)
        self.add_subscription(m.Sign, '/attune/sign', self._on_sign, qos.RESULTS)
        self._speaking_sub = self.add_subscription(Bool, SPEAKING_TOPIC, self._on_speaking, qos.LATCHED)
        self.add_subscription(m.BehaviorCommand, self.params['command_topic'], self._on_command, qos.RESULTS)
        if self.params['person_matches_topic']:
            self.add_subscription(m.PersonMatches, self.params['person_matches_topic'], self._on_matches, qos.RESULTS)
        if self.params['stream_trust_topic']:
            self.add_subscription(m.StreamTrust, self.params['stream_trust_topic'], self._on_trust, qos.RESULTS)

    def release(self) -> None:
        self._fusion = None
        self._runner = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def parameters_changed(self, names: set[str]) -> None:
        if self._fusion is not None:
            self._fusion.options = fusion_options(self.params)
        runner = self._runner
        if runner is not None:
            runner.onset.wait_s = self.params['speaking_wait_s']
            runner.stimulus_delay_s = self.params['stimulus_delay_s']
            if names & set(_PROTOCOL_PARAMS):
                try:
                    runner.protocol.options = protocol_options(self.params)
                except AttuneError as exc:
                    self.get_logger().error(f'protocol options not changed: {exc}')

    # --- inputs ----------------------------------------------------------------------------------
    def _guard(self, kind: str, fn: Any, msg: Any) -> None:
        if self._fusion is not None and self._runner is not None:
            self.last_input = time.monotonic()
            self.attempt(kind, f'dropped {kind} message', fn, msg)

    def _on_faces(self, msg: Any) -> None:
        def apply(m: Any) -> None:
            stamp = to_ns(m.header.stamp)
            faces = face_inputs(m, self.params['fallback_hfov_deg'])
            self._fusion.observe_faces(self.now_s(), stamp, faces)
            self._dirty.update(f.id for f in faces)
            self._frame_id = m.header.frame_id or self._frame_id
            samples = self._people.protocol_samples([FaceSample(f.id, f.yaw, 0.5 * (face.roi.xmin + face.roi.xmax))
                                                     for f, face in zip(faces, m.faces)])
            self._publish_results(self._runner.faces(stamp, samples, time.monotonic()))
        self._guard('faces', apply, msg)

    def _on_expression(self, msg: Any) -> None:
        def apply(m: Any) -> None:
            if self._fusion.observe_expression(self.now_s(), to_ns(m.header.stamp), expression_input(m)):
                self._dirty.add(m.face_id)
        self._guard('expression', apply, msg)

    def _on_affect(self, msg: Any) -> None:
        def apply(m: Any) -> None:
            stamp = to_ns(m.header.stamp)
            if self._fusion.observe_affect(self.now_s(), stamp, affect_input(m)):
                self._dirty.add(m.face_id)
            if m.face_id and m.emotions:
                self._runner.affect(self._people.key(m.face_id), stamp, m.emotions, m.probabilities, float(m.valence))
        self._guard('affect', apply, msg)

    def _on_sign(self, msg: Any) -> None:
        def apply(m: Any) -> None:
            now = self.now_s()
            person = self._fusion.observe_sign(now, to_ns(m.header.stamp), sign_input(m))
            if person:
                self._dirty.add(person)
            person = person or m.face_id or self._fusion.most_attentive(now)  # attributed even while gated
            self._events.publish(sign_event_to_msg(m, person))
            self.count('events_published')
        self._guard('sign', apply, msg)

    def _on_matches(self, msg: Any) -> None:
        def apply(m: Any) -> None:
            bound = self._people.participant_id
            for track, identity in self._people.matches(matches_from_msg(m), self.now_s()):
                if self._fusion.identify(track, identity):
                    self._dirty.add(track)
            if self._people.participant_id and not bound:
                self.get_logger().info(f'participant identified: person {self._people.participant_id}')
                if self._log is not None:
                    self._log.write({'type': 'participant', 'person_id': self._people.participant_id})
        self._guard('person_matches', apply, msg)

    def _on_trust(self, msg: Any) -> None:
        def apply(m: Any) -> None:
            self._fusion.set_stream_trust(self.now_s(), float(m.score) if m.ready else math.nan, bool(m.live))
            self._dirty.update(self._fusion.person_ids)
        self._guard('stream_trust', apply, msg)

    def _on_speaking(self, msg: Bool) -> None:
        if self._fusion is not None and self._fusion.robot_speaking != msg.data:
            self._fusion.set_robot_speaking(msg.data)
            self._dirty.update(self._fusion.person_ids)
        if self._runner is not None:
            now = self.get_clock().now().nanoseconds
            self._publish_results(self._runner.speaking(msg.data, now, time.monotonic()))

    def _on_command(self, msg: Any) -> None:
        runner = self._runner
        if runner is None:
            return
        try:
            command = command_from_msg(msg)
        except ValueError as exc:
            self.bad_input.report('command', f'ignored BehaviorCommand: {exc}')
            return
        target = command.target_id.strip()
        if command.action == Action.STOP:
            self._publish_results(runner.stop(self._people.key(target) if target else ''))
            return
        if command.action != Action.NAME_CALL:
            return
        target, replaced = self._people.protocol_target(target)
        if replaced:
            self.bad_input.report('participant', f'NAME_CALL for face {command.target_id!r}: measured on the bound '
                                  'participant instead (other faces are ignored)')
        now = self.get_clock().now().nanoseconds
        stamp = command.stamp_ns
        if stamp == 0:
            stamp = now
            self.bad_input.report('command_stamp', 'NAME_CALL without a header stamp: its receive time is used '
                                  'instead')
        self.count('name_calls')
        reports = self.count_publishers(self._speaking_sub.topic_name) > 0  # the remapped name
        name = command.text.strip()
        self.get_logger().info(f"name call '{name}' for face '{target or 'most central'}' (command stamp "
                               f"{stamp} ns{', waiting for the speech onset' if reports else ''})")
        self._publish_results(runner.command(PendingCall(stamp, now, target, name), reports, time.monotonic()))

    def _on_protocol_timer(self) -> None:
        if self._runner is not None:
            now = self.get_clock().now().nanoseconds
            self._publish_results(self._runner.tick(now, time.monotonic()))

    # --- output ----------------------------------------------------------------------------------
    def _publish_results(self, results: list[NameCallResult]) -> None:
        """Publish name-call states and results as events (and log the final ones)."""
        for measured in results:
            result, person = self._people.report(measured)
            header = Header(stamp=from_ns(result.decided_ns, type(Header().stamp)), frame_id=self._frame_id)
            self._events.publish(protocol_event_to_msg(result.as_protocol_result(), header))
            self.count('events_published')
            if not result.final:
                continue
            status = result.status.name
            self._results[status] = self._results.get(status, 0) + 1
            latency = f' after {result.latency_s:.2f} s' if math.isfinite(result.latency_s) else ''
            self.get_logger().info(f"name call '{result.name}' (face '{result.target_id}'): {status.lower()} "
                                   f'({result.reason}){latency}')
            if self._log is not None:
                try:
                    self._log.name_call(result, person_id=person or None,
                                        participant=bool(person) and person == self._people.participant_id)
                except (OSError, ValueError) as exc:
                    self.bad_input.report('session_log', f'session log not written: {exc}')

    def _publish(self) -> None:
        if self._fusion is None:
            return
        now = self.now_s()
        if now - self._last_heartbeat >= self.params['heartbeat_s']:
            self._last_heartbeat = now
            ids = None
        elif self._dirty:
            ids = list(self._dirty)
        else:
            return
        self._dirty.clear()
        for state in self._fusion.snapshot(now, ids):
            self._pub.publish(state_to_msg(state, self._frame_id))
            self.published += 1
            self.count('states_published')

    def diagnostic_values(self) -> dict[str, Any]:
        values = super().diagnostic_values()
        values['name_calls_running'] = self._runner.running if self._runner else 0
        values.update({f'results_{k.lower()}': v for k, v in self._results.items()})
        if self._log is not None:
            values['session_log'] = str(self._log.path)
        return values


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = InteractionNode


def main(args: list[str] | None = None) -> int:
    return run_node(InteractionNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
