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
             /attune/robot/speaking   attune/RobotSpeaking robot_speaking (optional gating); the stamp
                                                           of its rising edge is a name call's speech onset
             /attune/robot/connected  std_msgs/Bool        false (the robot bridge lost the robot): running
                                                           and new name calls end ABORTED (robot_disconnected)
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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool, Header

from attune.behavior.commands import Action
from attune.behavior.fusion import InteractionFusion
from attune.behavior.identities import InteractionIdentities
from attune.behavior.protocol import FaceSample, NameCallResult, NameCallRunner, PendingCall
from attune.behavior.protocol.session_log import NameCallLog
from attune.errors import AttuneError
from attune.ros import (
    msg_affect_state,
    msg_behavior_command,
    msg_expression,
    msg_faces,
    msg_interaction_event,
    msg_interaction_state,
    msg_person_matches,
    msg_sign,
    msg_stream_trust,
    qos,
)
from attune.ros.interaction_params import PARAMETERS, PROTOCOL_PARAMS, fusion_options, protocol_options
from attune.ros.node_main import run_node
from attune.ros.shell import Diagnostics, NodeShell
from attune.ros.stamps import from_ns, to_ns

if TYPE_CHECKING:
    from rclpy.subscription import Subscription

    from attune.msg import (
        AffectState,
        BehaviorCommand,
        Expression,
        Faces,
        PersonMatches,
        RobotSpeaking,
        Sign,
        StreamTrust,
    )

NODE_NAME = 'interaction_node'
STATE_TOPIC = '/attune/interaction_state'
EVENT_TOPIC = '/attune/interaction/events'
SPEAKING_TOPIC = '/attune/robot/speaking'
CONNECTED_TOPIC = '/attune/robot/connected'
#: Why name calls end ABORTED when the robot bridge reports the robot unreachable.
ROBOT_LOST = 'robot_disconnected'

#: Faces in: reliable, a second of a 30 fps stream (the name call needs every frame's head pose).
FACES_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=30, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.VOLATILE)

#: The message type of an input callback.
_Msg = TypeVar('_Msg')


@dataclass
class _Parts:
    """What configure builds and every input needs: the fusion, who is who, and the name-call protocol."""

    fusion: InteractionFusion
    people: InteractionIdentities
    runner: NameCallRunner


class InteractionNode(NodeShell):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('interaction state', working='fusing', idle='no input in the last {s:g} s')
    COUNTERS = ('states_published', 'events_published', 'name_calls')

    def __init__(self, **kwargs: Any) -> None:
        self._parts: _Parts | None = None  # set at configure
        self._log: NameCallLog | None = None
        self._results: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._last_heartbeat = -1e18
        self._frame_id = ''
        self._speaking_sub: Subscription[RobotSpeaking] | None = None
        self._robot_connected = True  # until a robot bridge says otherwise (CONNECTED_TOPIC)
        self.published = 0
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    def configure(self) -> None:
        p = self.params
        fusion = InteractionFusion(fusion_options(p))
        people = InteractionIdentities(p['participant'])
        fusion.participant_bound = people.bound
        if people.bound and not p['person_matches_topic']:
            self.get_logger().warning("participant set, but person_matches_topic is '': no face can be theirs")
        runner = NameCallRunner(protocol_options(p), speaking_wait_s=p['speaking_wait_s'],
                                frame_timeout_s=p['frame_timeout_s'], stimulus_delay_s=p['stimulus_delay_s'])
        self._parts = _Parts(fusion, people, runner)
        if p['session_log_dir']:
            self._log = NameCallLog(p['session_log_dir'], p['session_name'],
                                    {'node': self.get_name(), 'protocol': {
                                        name: p[name] for name in (*PROTOCOL_PARAMS, 'speaking_wait_s',
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
        self._speaking_sub = self.add_subscription(m.RobotSpeaking, SPEAKING_TOPIC, self._on_speaking,
                                                   qos.LATCHED_CHANGES)
        self.add_subscription(Bool, CONNECTED_TOPIC, self._on_robot_connected, qos.LATCHED)
        self.add_subscription(m.BehaviorCommand, self.params['command_topic'], self._on_command, qos.RESULTS)
        if self.params['person_matches_topic']:
            self.add_subscription(m.PersonMatches, self.params['person_matches_topic'], self._on_matches, qos.RESULTS)
        if self.params['stream_trust_topic']:
            self.add_subscription(m.StreamTrust, self.params['stream_trust_topic'], self._on_trust, qos.RESULTS)

    def release(self) -> None:
        self._parts = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def parameters_changed(self, names: set[str]) -> None:
        if self._parts is not None:
            self._parts.fusion.options = fusion_options(self.params)
            runner = self._parts.runner
            runner.onset.wait_s = self.params['speaking_wait_s']
            runner.stimulus_delay_s = self.params['stimulus_delay_s']
            if names & set(PROTOCOL_PARAMS):
                try:
                    runner.protocol.options = protocol_options(self.params)
                except AttuneError as exc:
                    self.get_logger().error(f'protocol options not changed: {exc}')

    # --- inputs ----------------------------------------------------------------------------------
    def _guard(self, kind: str, fn: Callable[[_Msg, _Parts], None], msg: _Msg) -> None:
        """fn(msg, parts) for one input message; nothing before configure or after release."""
        if self._parts is not None:
            self.last_input = time.monotonic()
            self.attempt(kind, f'dropped {kind} message', fn, msg, self._parts)

    def _on_faces(self, msg: Faces) -> None:
        def apply(m: Faces, parts: _Parts) -> None:
            stamp = to_ns(m.header.stamp)
            faces = msg_faces.fusion_inputs(m, self.params['fallback_hfov_deg'])
            parts.fusion.observe_faces(self.now_s(), stamp, faces)
            self._dirty.update(f.id for f in faces)
            self._frame_id = m.header.frame_id or self._frame_id
            samples = parts.people.protocol_samples([FaceSample(f.id, f.yaw, 0.5 * (face.roi.xmin + face.roi.xmax))
                                                     for f, face in zip(faces, m.faces)])
            self._publish_results(parts.people, parts.runner.faces(stamp, samples, time.monotonic()))
        self._guard('faces', apply, msg)

    def _on_expression(self, msg: Expression) -> None:
        def apply(m: Expression, parts: _Parts) -> None:
            if parts.fusion.observe_expression(self.now_s(), to_ns(m.header.stamp), msg_expression.from_msg(m)):
                self._dirty.add(m.face_id)
        self._guard('expression', apply, msg)

    def _on_affect(self, msg: AffectState) -> None:
        def apply(m: AffectState, parts: _Parts) -> None:
            stamp = to_ns(m.header.stamp)
            if parts.fusion.observe_affect(self.now_s(), stamp, msg_affect_state.from_msg(m)):
                self._dirty.add(m.face_id)
            if m.face_id and m.emotions:
                parts.runner.affect(parts.people.key(m.face_id), stamp, m.emotions, m.probabilities, float(m.valence))
        self._guard('affect', apply, msg)

    def _on_sign(self, msg: Sign) -> None:
        def apply(m: Sign, parts: _Parts) -> None:
            now = self.now_s()
            person = parts.fusion.observe_sign(now, to_ns(m.header.stamp), msg_sign.fusion_input(m))
            if person:
                self._dirty.add(person)
            person = person or m.face_id or parts.fusion.most_attentive(now)  # attributed even while gated
            self._events.publish(msg_interaction_event.forward_sign(m, person))
            self.count('events_published')
        self._guard('sign', apply, msg)

    def _on_matches(self, msg: PersonMatches) -> None:
        def apply(m: PersonMatches, parts: _Parts) -> None:
            bound = parts.people.participant_id
            identified = parts.people.matches(msg_person_matches.from_msg(m), self.now_s())
            for track, identity in identified.identities:
                if parts.fusion.identify(track, identity):
                    self._dirty.add(track)
            for old, new in identified.rekeys:  # the protocol's samples and calls follow the person
                self._publish_results(parts.people, parts.runner.rekey(old, new))
            if parts.people.participant_id and not bound:
                self.get_logger().info(f'participant identified: person {parts.people.participant_id}')
                if self._log is not None:
                    self._log.write({'type': 'participant', 'person_id': parts.people.participant_id})
        self._guard('person_matches', apply, msg)

    def _on_trust(self, msg: StreamTrust) -> None:
        def apply(m: StreamTrust, parts: _Parts) -> None:
            trust = msg_stream_trust.from_msg(m)
            parts.fusion.set_stream_trust(self.now_s(), trust.trust, trust.live)
            self._dirty.update(parts.fusion.person_ids)
        self._guard('stream_trust', apply, msg)

    def _on_speaking(self, msg: RobotSpeaking) -> None:
        parts = self._parts
        if parts is None:
            return
        if parts.fusion.robot_speaking != msg.speaking:
            parts.fusion.set_robot_speaking(msg.speaking)
            self._dirty.update(parts.fusion.person_ids)
        stamp = to_ns(msg.header.stamp)
        if stamp == 0:
            stamp = self.get_clock().now().nanoseconds
            self.bad_input.report('speaking_stamp', 'RobotSpeaking without a header stamp: its receive time is '
                                  'used as the speech onset instead')
        self._publish_results(parts.people, parts.runner.speaking(msg.speaking, stamp, time.monotonic()))

    def _on_robot_connected(self, msg: Bool) -> None:
        self._robot_connected = bool(msg.data)
        if not self._robot_connected and self._parts is not None:
            self._publish_results(self._parts.people, self._parts.runner.abort(ROBOT_LOST, time.monotonic()))

    def _on_command(self, msg: BehaviorCommand) -> None:
        if self._parts is None:
            return
        runner, people = self._parts.runner, self._parts.people
        try:
            command = msg_behavior_command.from_msg(msg)
        except ValueError as exc:
            self.bad_input.report('command', f'ignored BehaviorCommand: {exc}')
            return
        target = command.target_id.strip()
        if command.action == Action.STOP:
            self._publish_results(people, runner.stop(people.key(target) if target else ''))
            return
        if command.action != Action.NAME_CALL:
            return
        target, replaced = people.protocol_target(target)
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
        speaking = self._speaking_sub  # made in activate(), before any command can come
        reports = speaking is not None and self.count_publishers(speaking.topic_name) > 0  # the remapped name
        name = command.text.strip()
        whom = 'the participant, not identified yet' if people.awaited(target) else f"face '{target or 'most central'}'"
        self.get_logger().info(f"name call '{name}' for {whom} (command stamp "
                               f"{stamp} ns{', waiting for the speech onset' if reports else ''})")
        results = runner.command(PendingCall(stamp, now, target, name, people.awaited(target)), reports,
                                 time.monotonic())
        if not self._robot_connected:  # the robot cannot have called the name: nothing to measure
            results += runner.abort(ROBOT_LOST, time.monotonic(), target)
        self._publish_results(people, results)

    def _on_protocol_timer(self) -> None:
        if self._parts is not None:
            now = self.get_clock().now().nanoseconds
            self._publish_results(self._parts.people, self._parts.runner.tick(now, time.monotonic()))

    # --- output ----------------------------------------------------------------------------------
    def _publish_results(self, people: InteractionIdentities, results: list[NameCallResult]) -> None:
        """Publish name-call states and results as events (and log the final ones)."""
        for measured in results:
            result, person = people.report(measured)
            header = Header(stamp=from_ns(result.decided_ns, type(Header().stamp)), frame_id=self._frame_id)
            self._events.publish(msg_interaction_event.to_msg(result.as_protocol_result(), header))
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
                                        participant=bool(person) and person == people.participant_id)
                except (OSError, ValueError) as exc:
                    self.bad_input.report('session_log', f'session log not written: {exc}')

    def _publish(self) -> None:
        if self._parts is None:
            return
        fusion = self._parts.fusion
        now = self.now_s()
        if now - self._last_heartbeat >= self.params['heartbeat_s']:
            self._last_heartbeat = now
            ids = None
        elif self._dirty:
            ids = list(self._dirty)
        else:
            return
        self._dirty.clear()
        for state in fusion.snapshot(now, ids):
            self._pub.publish(msg_interaction_state.to_msg(state, self._frame_id))
            self.published += 1
            self.count('states_published')

    def diagnostic_values(self) -> dict[str, Any]:
        values = super().diagnostic_values()
        values['name_calls_running'] = self._parts.runner.running if self._parts else 0
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
