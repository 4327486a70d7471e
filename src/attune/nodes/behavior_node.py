"""behavior_node: interaction states and events in, explained robot commands out, driven by a YAML policy.

A thin lifecycle node around attune.behavior.engine.PolicyEngine. The policy (a shipped profile name
or a file) is validated at start-up: an invalid file stops the node with FILE:LINE: FIELD: problem.

Subscribes:  /attune/interaction_state   attune/InteractionState  `on: state` rules; where faces are (for
                                                                  `gaze: person`); the words of the reasons
             /attune/interaction/events  attune/InteractionEvent  `on: sign` rules (signs attributed to a
                                                                  person), `on: protocol` rules (results)
             /attune/session/rating      attune/SessionRating     an operator's rating, written to the session log
             /attune/robot/undelivered   diagnostic_msgs/         a command the robot bridge could not deliver:
                                         DiagnosticStatus         counted, written to the session log (which
                                                                  command and why, not its words)
Publishes:   /attune/behavior/command    attune/BehaviorCommand   each with its rule and reason in words
Writes:      the session log (JSONL) when session_log_dir is set.

Data flows one way: perception -> interaction node -> this node -> robot bridges. The name-call
protocol: a NAME_CALL command (target_id = the person, text = the name) is the stimulus; the
interaction node measures the response (attune.behavior.protocol) and publishes the result as an
InteractionEvent; docs/behavior.md has the full contract.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from diagnostic_msgs.msg import DiagnosticStatus

from attune.behavior.commands import GazeTarget
from attune.behavior.engine import PolicyEngine
from attune.behavior.outcome import Outcome, PersonSign
from attune.behavior.policy import load_policy
from attune.behavior.ratings import now_iso
from attune.behavior.session_log import SessionLog
from attune.ros import msg_behavior_command, msg_interaction_event, msg_interaction_state, msg_session_rating, qos
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.robot_bridge import UNDELIVERED_TOPIC, undelivered_from_msg
from attune.ros.shell import FAILED, Diagnostics, NodeShell, stale_input_parameter

if TYPE_CHECKING:
    from attune.msg import InteractionEvent, InteractionState, SessionRating

NODE_NAME = 'behavior_node'
COMMAND_TOPIC = '/attune/behavior/command'
EVENT_TOPIC = '/attune/interaction/events'
RATING_TOPIC = '/attune/session/rating'

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('policy', 'default', 'Behaviour policy: a shipped profile (default, asd_session, signing_partner) '
              'or the path of a policy YAML file.'),
    ParamSpec('participant_name', '', "Overrides the policy variable 'name' (the name said in name calls and "
              "greetings); '' keeps the policy's."),
    ParamSpec('tick_hz', 5.0, 'Rate of housekeeping: idle rules, stale states, protocol time-outs.', min=0.5,
              max=50.0),
    ParamSpec('state_timeout_s', 2.0, 'A person whose last InteractionState is older than this is dropped '
              '(stale input falls back to idle).', min=0.1, max=600.0, dynamic=True),
    ParamSpec('session_log_dir', '', "Folder for the session log (session-<date>-<time>.jsonl); '' = no log."),
    ParamSpec('session_log_state_hz', 2.0, 'Interaction states logged per second and person.', min=0.1, max=100.0),
    stale_input_parameter('interaction states or events', 'they come back'),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


class BehaviorNode(NodeShell):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('behaviour', working='following the policy',
                              idle='no perception input in the last {s:g} s')
    INPUT_IS_WORK = True
    COUNTERS = ('commands_not_delivered',)

    def __init__(self, **kwargs: Any) -> None:
        self.engine: PolicyEngine | None = None
        self.session_log: SessionLog | None = None
        self._faces: dict[str, GazeTarget] = {}
        self.published = 0
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        policy = load_policy(self.params['policy'])  # PolicyError names file, line and field
        variables = {'name': self.params['participant_name']} if self.params['participant_name'] else {}
        now = self.now_s()
        self.engine = PolicyEngine(policy, start=now, state_timeout_s=self.params['state_timeout_s'],
                                   gaze_resolver=self._faces.get, variables=variables)
        if self.params['session_log_dir']:
            path = SessionLog.new_path(self.params['session_log_dir'])
            self.session_log = SessionLog(path, start=now, state_interval_s=1.0 / self.params['session_log_state_hz'],
                                          meta={'policy': policy.name, 'policy_path': policy.path,
                                                'variables': dict(self.engine.variables)})
            self.get_logger().info(f'session log: {path}')
        self._pub = self.add_publisher(self._msgs.BehaviorCommand, COMMAND_TOPIC, qos.RESULTS)
        self.add_timer(1.0 / self.params['tick_hz'], self._tick)
        self.get_logger().info(f'policy {policy.name!r} ({policy.path}): {len(policy.rules)} rules; rate limit '
                               f'{policy.limits.max_commands} commands per {policy.limits.window_s:g} s')

    def activate(self) -> None:
        m = self._msgs
        self.add_subscription(m.InteractionState, '/attune/interaction_state', self._on_state, qos.RESULTS)
        self.add_subscription(m.InteractionEvent, EVENT_TOPIC, self._on_event, qos.RESULTS)
        self.add_subscription(m.SessionRating, RATING_TOPIC, self._on_rating, qos.RESULTS)
        self.add_subscription(DiagnosticStatus, UNDELIVERED_TOPIC, self._on_undelivered, qos.RESULTS)

    def release(self) -> None:
        if self.session_log is not None:
            self.session_log.close(self.now_s())
            self.session_log = None
        self.engine = None

    def parameters_changed(self, names: set[str]) -> None:
        if self.engine is not None and 'state_timeout_s' in names:
            self.engine.state_timeout_s = self.params['state_timeout_s']

    # --- inputs ----------------------------------------------------------------------------------
    def _run(self, kind: str, fn: Callable[[PolicyEngine], Outcome]) -> None:
        """fn(engine) for one input, its outcome emitted; nothing before configure or after release."""
        if self.engine is None:
            return
        outcome = self.attempt(kind, f'dropped {kind} message', fn, self.engine)
        if outcome is not FAILED:
            self._emit(outcome)

    def _on_state(self, msg: InteractionState) -> None:
        def apply(engine: PolicyEngine) -> Outcome:
            state = msg_interaction_state.from_msg(msg)
            if state.face_position is not None:
                x, y, z = state.face_position
                self._faces[state.person_id] = GazeTarget(x, y, z, msg.header.frame_id or 'camera_optical_frame')
            else:
                self._faces.pop(state.person_id, None)
            now = self.now_s()
            if self.session_log is not None:
                self.session_log.state(now, state)
            return engine.on_state(state, now)
        self._run('interaction state', apply)

    def _on_event(self, msg: InteractionEvent) -> None:
        def apply(engine: PolicyEngine) -> Outcome:
            event = msg_interaction_event.from_msg(msg)
            now = self.now_s()
            if isinstance(event, PersonSign):
                if not event.person_id:  # the interaction node knew nobody: the engine's best guess
                    event = replace(event, person_id=self._most_attentive())
                if self.session_log is not None:
                    self.session_log.sign(now, event)
                return engine.on_sign(event, now)
            if event.status in ('none', 'waiting'):
                return Outcome()
            return engine.on_protocol(event, now)
        self._run('event', apply)

    def _on_rating(self, msg: SessionRating) -> None:
        def apply(engine: PolicyEngine) -> Outcome:
            now = self.now_s()
            log = self.session_log
            rating = msg_session_rating.from_msg(msg, t=round(now - log.start, 3) if log else None, rated_at=now_iso())
            if log is None:
                self.bad_input.report('rating', 'a session rating arrived, but session_log_dir is not set: '
                                                 'not recorded (use `attune rate SESSION.jsonl` afterwards)')
            else:
                log.rating(now, rating)
                self.get_logger().info(f'session rating recorded: engagement {rating.engagement}, '
                                       f'comfort {rating.comfort}')
            return Outcome()
        self._run('rating', apply)

    def _on_undelivered(self, msg: DiagnosticStatus) -> None:
        def apply(engine: PolicyEngine) -> Outcome:
            command = undelivered_from_msg(msg)
            self.count('commands_not_delivered')
            if self.session_log is not None:
                self.session_log.undelivered(self.now_s(), command)
            return Outcome()
        self._run('undelivered', apply)

    def _most_attentive(self) -> str:
        return self.engine.most_attentive() if self.engine is not None else ''

    def _tick(self) -> None:
        self._run('tick', lambda engine: engine.tick(self.now_s()))
        tracked = self.engine.person_ids if self.engine is not None else set()
        for pid in self._faces.keys() - tracked:  # face positions of people the engine dropped go too
            del self._faces[pid]  # in place: the engine resolves gaze targets through this dict

    # --- output ----------------------------------------------------------------------------------
    def _emit(self, outcome: Outcome) -> None:
        now = self.now_s()
        log = self.session_log
        for result in outcome.protocol_results:
            self.get_logger().info(f'protocol result for {result.person_id or "?"}: {result.describe()}')
            if log is not None:
                log.protocol(now, result)
        for s in outcome.suppressed:
            if log is not None:
                log.suppressed(now, s)
        for cmd in outcome.commands:
            if log is not None:  # logged before it is sent: the therapist's log never misses a command
                log.command(now, cmd)
            self._pub.publish(msg_behavior_command.to_msg(cmd))
            self.published += 1
            self.get_logger().info(f'{cmd.describe()} [{cmd.rule}] because {cmd.reason}')


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = BehaviorNode


def main(args: list[str] | None = None) -> int:
    return run_node(BehaviorNode, args)


if __name__ == '__main__':
    raise SystemExit(main())

