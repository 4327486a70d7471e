"""behavior_node: interaction states and events in, explained robot commands out, driven by a YAML policy.

A thin lifecycle node around attune.behavior.engine.PolicyEngine. The policy (a shipped profile name
or a file) is validated at start-up: an invalid file stops the node with FILE:LINE: FIELD: problem.

Subscribes:  /attune/interaction_state  attune/InteractionState  `on: state` rules
             /attune/sign               attune/Sign              `on: sign` rules
             /attune/affect             attune/AffectState       protocol results only (`on: protocol`)
             /attune/faces              attune/Faces             where faces are (for `gaze: person`)
             /attune/expression         attune/Expression        labels, for the words of the reasons
Publishes:   /attune/behavior/command   attune/BehaviorCommand   each with its rule and reason in words
Writes:      the session log (JSONL) when session_log_dir is set.

The name-call protocol: a NAME_CALL command (target_id = the person, text = the name) is the request
to the ASD emotion node, which subscribes to /attune/behavior/command, measures the response and
publishes the result in AffectState protocol fields; docs/behavior.md has the full contract.
"""
from __future__ import annotations

import math
from typing import Any

from attune.behavior.commands import GazeTarget
from attune.behavior.engine import Outcome, PolicyEngine
from attune.behavior.policy import load_policy
from attune.behavior.session_log import SessionLog
from attune.ros import qos
from attune.ros.behavior_msgs import (
    command_to_msg,
    contribution_detail,
    protocol_result,
    sign_event,
    state_from_msg,
)
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.shell import FAILED, Diagnostics, NodeShell

NODE_NAME = 'behavior_node'
COMMAND_TOPIC = '/attune/behavior/command'

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('policy', 'default', 'Behaviour policy: a shipped profile (default, asd_session, signing_partner) '
              'or the path of a policy YAML file.'),
    ParamSpec('participant_name', '', "Overrides the policy variable 'name' (the name said in name calls and "
              "greetings); '' keeps the policy's."),
    ParamSpec('tick_hz', 5.0, 'Rate of housekeeping: idle rules, stale states, protocol time-outs.', min=0.5,
              max=50.0),
    ParamSpec('state_timeout_s', 2.0, 'A person whose last InteractionState is older than this is dropped '
              '(stale input falls back to idle).', min=0.1, max=600.0, dynamic=True),
    ParamSpec('fallback_hfov_deg', 60.0, 'Horizontal field of view used to aim `gaze: person` at a face '
              'without head pose.', min=10.0, max=170.0, dynamic=True),
    ParamSpec('session_log_dir', '', "Folder for the session log (session-<date>-<time>.jsonl); '' = no log."),
    ParamSpec('session_log_state_hz', 2.0, 'Interaction states logged per second and person.', min=0.1, max=100.0),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


def face_point(face: Any, hfov_deg: float, aspect: float) -> tuple[float, float, float]:
    """Where a face is in the camera optical frame: the head-pose position when valid, else the
    ROI centre's direction at 1 m (from the field of view)."""
    if face.pose_valid:
        p = face.head_pose.position
        return float(p.x), float(p.y), float(p.z)
    cx = 0.5 * (face.roi.xmin + face.roi.xmax) - 0.5
    cy = 0.5 * (face.roi.ymin + face.roi.ymax) - 0.5
    tan_h = math.tan(math.radians(hfov_deg) / 2)
    return 2 * cx * tan_h, 2 * cy * tan_h / aspect, 1.0


class BehaviorNode(NodeShell):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('behaviour', working='following the policy', idle='no perception input in the last 5 s')
    INPUT_IS_WORK = True

    def __init__(self, **kwargs: Any) -> None:
        self.engine: PolicyEngine | None = None
        self.session_log: SessionLog | None = None
        self._faces: dict[str, GazeTarget] = {}
        self._results_seen: set[tuple] = set()
        self._details: dict[str, dict[tuple[str, str], str]] = {}
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
        self.add_subscription(m.Sign, '/attune/sign', self._on_sign, qos.RESULTS)
        self.add_subscription(m.AffectState, '/attune/affect', self._on_affect, qos.RESULTS)
        self.add_subscription(m.Faces, '/attune/faces', self._on_faces, qos.RESULTS)
        self.add_subscription(m.Expression, '/attune/expression', self._on_expression, qos.RESULTS)

    def release(self) -> None:
        if self.session_log is not None:
            self.session_log.close(self.now_s())
            self.session_log = None
        self.engine = None

    def parameters_changed(self, names: set[str]) -> None:
        if self.engine is not None and 'state_timeout_s' in names:
            self.engine.state_timeout_s = self.params['state_timeout_s']

    # --- inputs ----------------------------------------------------------------------------------
    def _run(self, kind: str, fn: Any) -> None:
        if self.engine is None:
            return
        outcome = self.attempt(kind, f'dropped {kind} message', fn)
        if outcome is not FAILED:
            self._emit(outcome)

    def _on_state(self, msg: Any) -> None:
        def apply() -> Outcome:
            state = state_from_msg(msg, self._details.get(msg.person_id))
            now = self.now_s()
            if self.session_log is not None:
                self.session_log.state(now, state)
            return self.engine.on_state(state, now)
        self._run('interaction state', apply)

    def _remember(self, kind: str, modality: str, msg: Any, person: str = '') -> None:
        detail = contribution_detail(kind, msg)
        if detail is not None:
            face, source, words = detail
            self._details.setdefault(person or face, {})[(modality, source)] = words
            if len(self._details) > 100:  # forget persons long gone
                self._details.pop(next(iter(self._details)))

    def _on_expression(self, msg: Any) -> None:
        self._remember('expression', 'expression', msg)

    def _on_sign(self, msg: Any) -> None:
        def apply() -> Outcome:
            person = msg.face_id or self._most_attentive()
            self._remember('sign', 'sign', msg, person)
            event = sign_event(msg, person)
            now = self.now_s()
            if self.session_log is not None:
                self.session_log.sign(now, event)
            return self.engine.on_sign(event, now)
        self._run('sign', apply)

    def _on_affect(self, msg: Any) -> None:
        def apply() -> Outcome:
            self._remember('affect', 'affect', msg)
            result = protocol_result(msg)
            if result is None or result.status == 'waiting':
                return Outcome()
            key = (result.person_id, result.name, result.status, result.stamp_ns)
            if key in self._results_seen:  # the same result repeated in later AffectStates
                return Outcome()
            self._results_seen.add(key)
            return self.engine.on_protocol(result, self.now_s())
        self._run('affect', apply)

    def _on_faces(self, msg: Any) -> None:
        aspect = msg.image_width / msg.image_height if msg.image_width and msg.image_height else 4 / 3
        hfov = self.params['fallback_hfov_deg']
        frame = msg.header.frame_id or 'camera_optical_frame'
        self._faces.clear()
        for face in msg.faces:
            x, y, z = face_point(face, hfov, aspect)
            self._faces[face.id] = GazeTarget(x, y, z, frame)

    def _most_attentive(self) -> str:
        return self.engine.most_attentive() if self.engine is not None else ''

    def _tick(self) -> None:
        self._run('tick', lambda: self.engine.tick(self.now_s()))

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
            self._pub.publish(command_to_msg(cmd))
            self.published += 1
            self.get_logger().info(f'{cmd.describe()} [{cmd.rule}] because {cmd.reason}')


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = BehaviorNode


def main(args: list[str] | None = None) -> int:
    return run_node(BehaviorNode, args)


if __name__ == '__main__':
    raise SystemExit(main())

