"""The rclpy side of `attune view`: subscribe to attune's topics and hand them to a LiveView.

Thin on purpose: each callback converts the message with its attune.ros.msg_* module into
attune's ROS-free types and calls attune.view.live.LiveView, which builds the Foxglove payloads.
A message that cannot be converted is dropped, counted and reported once per kind (rate-limited);
the relay keeps running.

Subscribes:  <camera_topic>              sensor_msgs/Image or CompressedImage (sensor QoS)
             /attune/faces               attune/Faces
             /attune/expression          attune/Expression
             /attune/affect              attune/AffectState
             /attune/interaction_state   attune/InteractionState
             /attune/behavior/command    attune/BehaviorCommand
             /attune/interaction/events  attune/InteractionEvent: signs (view /attune/sign), protocol
                                         results (view /attune/affect)
             /attune/session/rating      attune/SessionRating
             /diagnostics                diagnostic_msgs/DiagnosticArray
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import CompressedImage, Image

from attune.affect.observation import AffectObservation
from attune.behavior.outcome import PersonSign
from attune.ros import (
    msg_affect_state,
    msg_behavior_command,
    msg_expression,
    msg_faces,
    msg_interaction_event,
    msg_interaction_state,
    msg_session_rating,
    qos,
)
from attune.ros.params import ParamSpec
from attune.ros.shell import NodeShell
from attune.ros.stamps import to_ns
from attune.view import live
from attune.view.live import LiveView

if TYPE_CHECKING:
    from rclpy.qos import QoSProfile

    from attune.msg import AffectState, Expression, Faces, InteractionEvent, SessionRating

NODE_NAME = 'attune_view'
EVENT_TOPIC = '/attune/interaction/events'
#: The message type of a relayed topic.
_Msg = TypeVar('_Msg')


def diagnostic_statuses(msg: DiagnosticArray) -> list[dict[str, Any]]:
    """The statuses of a DiagnosticArray as plain dicts (attune.view.payloads.diagnostics_payload)."""
    return [{'name': s.name, 'level': int.from_bytes(s.level, 'little') if isinstance(s.level, bytes) else int(s.level),
             'message': s.message, 'hardware_id': s.hardware_id, 'values': {kv.key: kv.value for kv in s.values}}
            for s in msg.status]


#: The relay's parameters (the camera topic and the view come from `attune view`'s options).
PARAMETERS = (
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


class ViewRelay(NodeShell):
    """Relays attune's topics to `view` (see the module docstring).

    On the node shell: its subscriptions are made on activate and destroyed on deactivate, cleanup
    and shutdown; every message is screened (absurd stamps, oversized fields, Faces outside physical
    ranges) before it is converted. It publishes no /diagnostics status of its own: it shows the
    graph's.

    Args:
        view: the LiveView to feed.
        camera_topic: the camera image topic ('' = no camera subscription); its type follows view.camera:
            'raw' sensor_msgs/Image, 'compressed' sensor_msgs/CompressedImage, None: not subscribed.
    """

    BAD_INPUT_LEVEL = 'warning'

    def __init__(self, view: LiveView, camera_topic: str = '/camera/image_raw', **kwargs: Any) -> None:
        self.view = view
        self.camera_topic = camera_topic
        self.received_by_topic: dict[str, int] = {}
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    def activate(self) -> None:
        m, view = self._msgs, self.view
        # (message type, ROS topic, handler, QoS); the view's topic is the ROS topic but for the camera and faces.
        # Any: the list holds the handlers of ten message types.
        subs: list[tuple[Any, str, Callable[[Any], object], QoSProfile]] = [
            (m.Faces, '/attune/faces', self._on_faces, qos.RESULTS),
            (m.Expression, '/attune/expression', self._on_expression, qos.RESULTS),
            (m.AffectState, '/attune/affect', self._on_affect, qos.RESULTS),
            (m.InteractionState, '/attune/interaction_state',
             lambda msg: view.state(msg_interaction_state.from_msg(msg)), qos.RESULTS),
            (m.BehaviorCommand, '/attune/behavior/command',
             lambda msg: view.command(msg_behavior_command.from_msg(msg)), qos.RESULTS),
            (m.InteractionEvent, EVENT_TOPIC, self._on_event, qos.RESULTS),
            (m.SessionRating, '/attune/session/rating', self._on_rating, qos.RESULTS),
            (DiagnosticArray, '/diagnostics',
             lambda msg: view.diagnostics(to_ns(msg.header.stamp), diagnostic_statuses(msg)), qos.RESULTS),
        ]
        camera_topic = self.camera_topic
        view_topics = {'/attune/faces': live.ANNOTATIONS_TOPIC}
        if camera_topic and view.camera == 'compressed':
            subs.append((CompressedImage, camera_topic, self._on_compressed, qos.SENSOR))
        elif camera_topic and view.camera == 'raw':
            subs.append((Image, camera_topic, self._on_image, qos.SENSOR))
        view_topics[camera_topic] = live.CAMERA_TOPIC
        for msg_type, topic, fn, profile in subs:
            self.add_subscription(msg_type, topic, self._guarded(topic, view_topics.get(topic, topic), fn), profile)
        # The view shows what arrives, in whatever order the topics deliver it: an expression that
        # comes before its face's first Faces message is shown, not screened out as an unknown track.
        self.screen.has_faces_input = False

    def _guarded(self, topic: str, view_topic: str, fn: Callable[[_Msg], object]) -> Callable[[_Msg], None]:
        def callback(msg: _Msg) -> None:
            self.received_by_topic[topic] = self.received_by_topic.get(topic, 0) + 1
            if topic not in ('/attune/expression', EVENT_TOPIC) and not self.view.listening(view_topic):
                return  # nobody watches: skip the conversion (expressions still label the faces)
            try:
                fn(msg)
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the view
                self.bad_input.report(topic, f'dropped a message on {topic}: {type(exc).__name__}: {exc}')
        return callback

    @property
    def dropped(self) -> int:
        return self.bad_input.total

    def _on_image(self, msg: Image) -> None:
        self.view.raw_image(stamp_ns=to_ns(msg.header.stamp), frame_id=msg.header.frame_id, width=msg.width,
                            height=msg.height, encoding=msg.encoding, step=msg.step, data=msg.data)

    def _on_compressed(self, msg: CompressedImage) -> None:
        self.view.compressed_image(stamp_ns=to_ns(msg.header.stamp), frame_id=msg.header.frame_id,
                                   data=msg.data, format=msg.format)

    def _on_faces(self, msg: Faces) -> None:
        self.view.faces(msg_faces.from_msg(msg))

    def _on_expression(self, msg: Expression) -> None:
        self.view.expression(msg_expression.from_msg(msg), msg_expression.action_units(msg), to_ns(msg.header.stamp))

    def _on_affect(self, msg: AffectState) -> None:
        self.view.affect(msg_affect_state.from_msg(msg), None, to_ns(msg.header.stamp))

    def _on_event(self, msg: InteractionEvent) -> None:
        event = msg_interaction_event.from_msg(msg)
        if isinstance(event, PersonSign):
            self.view.sign(event)
        else:  # a protocol state or result, shown with the affect of its person
            self.view.affect(AffectObservation(event.person_id, 'interaction_node'), event,
                             to_ns(msg.header.stamp))

    def _on_rating(self, msg: SessionRating) -> None:
        self.view.rating(msg_session_rating.from_msg(msg), to_ns(msg.header.stamp))
