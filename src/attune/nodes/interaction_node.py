"""interaction_node: perception in, one explainable attune/InteractionState per person out.

A thin lifecycle node around attune.behavior.fusion.InteractionFusion (the math is documented there
and in docs/behavior.md). Inputs are timed by the node clock at reception (sim time under
use_sim_time), so a replayed bag behaves like the live run; each state carries the header stamp of
the newest input behind it.

Subscribes:  /attune/faces            attune/Faces         presence, attention (head pose)
             /attune/expression       attune/Expression    valence, arousal, distress
             /attune/affect           attune/AffectState   engagement, valence, arousal, distress
             /attune/sign             attune/Sign          engagement (signing to the robot)
             /attune/robot/speaking   std_msgs/Bool        robot_speaking (optional gating)
Publishes:   /attune/interaction_state  attune/InteractionState: a person's state when new input
             arrived (at most publish_rate_hz), and every person every heartbeat_s (so staleness shows)
"""
from __future__ import annotations

from typing import Any

from std_msgs.msg import Bool

from attune.behavior.fusion import FusionOptions, InteractionFusion
from attune.ros import qos
from attune.ros.behavior_msgs import affect_input, expression_input, face_inputs, sign_input, state_to_msg
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.shell import Diagnostics, NodeShell
from attune.ros.stamps import to_ns

NODE_NAME = 'interaction_node'
STATE_TOPIC = '/attune/interaction_state'

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
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


def fusion_options(p: dict[str, Any]) -> FusionOptions:
    return FusionOptions(
        weights={m: p[f'weight_{m}'] for m in ('presence', 'attention', 'expression', 'affect', 'sign')},
        fresh_s=p['fresh_s'], half_life_s=p['half_life_s'], max_age_s=p['max_age_s'],
        smoothing_tau_s=p['smoothing_tau_s'], attention_cone_deg=p['attention_cone_deg'],
        presence_on_s=p['presence_on_s'], presence_off_s=p['presence_off_s'], forget_after_s=p['forget_after_s'],
        min_weight=p['min_weight'], gate_while_speaking=p['gate_while_speaking'])


class InteractionNode(NodeShell):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('interaction state', working='fusing perception',
                              idle='no perception input in the last 5 s')
    INPUT_IS_WORK = True

    def __init__(self, **kwargs: Any) -> None:
        self._fusion: InteractionFusion | None = None
        self._dirty: set[str] = set()
        self._last_heartbeat = -1e18
        self._frame_id = ''
        self.published = 0
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    def configure(self) -> None:
        self._fusion = InteractionFusion(fusion_options(self.params))
        self._pub = self.add_publisher(self._msgs.InteractionState, STATE_TOPIC, qos.RESULTS)
        self.add_timer(1.0 / self.params['publish_rate_hz'], self._publish)

    def activate(self) -> None:
        m = self._msgs
        self.add_subscription(m.Faces, '/attune/faces', self._on_faces, qos.RESULTS)
        self.add_subscription(m.Expression, '/attune/expression', self._on_expression, qos.RESULTS)
        self.add_subscription(m.AffectState, '/attune/affect', self._on_affect, qos.RESULTS)
        self.add_subscription(m.Sign, '/attune/sign', self._on_sign, qos.RESULTS)
        self.add_subscription(Bool, '/attune/robot/speaking', self._on_speaking, qos.LATCHED)

    def release(self) -> None:
        self._fusion = None

    def parameters_changed(self, names: set[str]) -> None:
        if self._fusion is not None:
            self._fusion.options = fusion_options(self.params)

    # --- inputs ----------------------------------------------------------------------------------
    def _guard(self, kind: str, fn: Any, msg: Any) -> None:
        if self._fusion is not None:
            self.attempt(kind, f'dropped {kind} message', fn, msg)

    def _on_faces(self, msg: Any) -> None:
        def apply(m: Any) -> None:
            faces = face_inputs(m)
            self._fusion.observe_faces(self.now_s(), to_ns(m.header.stamp), faces)
            self._dirty.update(f.id for f in faces)
            self._frame_id = m.header.frame_id or self._frame_id
        self._guard('faces', apply, msg)

    def _on_expression(self, msg: Any) -> None:
        def apply(m: Any) -> None:
            if self._fusion.observe_expression(self.now_s(), to_ns(m.header.stamp), expression_input(m)):
                self._dirty.add(m.face_id)
        self._guard('expression', apply, msg)

    def _on_affect(self, msg: Any) -> None:
        def apply(m: Any) -> None:
            if self._fusion.observe_affect(self.now_s(), to_ns(m.header.stamp), affect_input(m)):
                self._dirty.add(m.face_id)
        self._guard('affect', apply, msg)

    def _on_sign(self, msg: Any) -> None:
        def apply(m: Any) -> None:
            person = self._fusion.observe_sign(self.now_s(), to_ns(m.header.stamp), sign_input(m))
            if person:
                self._dirty.add(person)
        self._guard('sign', apply, msg)

    def _on_speaking(self, msg: Bool) -> None:
        if self._fusion is not None and self._fusion.robot_speaking != msg.data:
            self._fusion.set_robot_speaking(msg.data)
            self._dirty.update(self._fusion.person_ids)

    # --- output ----------------------------------------------------------------------------------
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


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = InteractionNode


def main(args: list[str] | None = None) -> int:
    return run_node(InteractionNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
