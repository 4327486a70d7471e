"""The shell every attune node builds on: what it creates is tracked and destroyed for it, bad input
is reported once per kind and counted, and its counters and processing times go to /diagnostics.

A node built on NodeShell creates its publishers and timers with add_publisher / add_timer in
configure(), its subscriptions with add_subscription in activate(). What activate() created is
destroyed on deactivate; everything is destroyed on cleanup, shutdown, a failed configure and
destroy_node, after the node's own release(). Image input, the exact-stamp join of images and
Faces and the robot bridges' command input are layers on top (attune.ros.image_input,
attune.ros.faces_join, attune.ros.robot_bridge).
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import QoSProfile

if TYPE_CHECKING:
    from rclpy.publisher import Publisher
    from rclpy.subscription import Subscription
    from rclpy.timer import Timer
    from rclpy.type_support import MsgT

from attune.errors import AttuneError
from attune.limits import DEFAULT_MAX_FACES, FaceLimits
from attune.ros import qos
from attune.ros.diagnostics import IDLE_AFTER_S, node_status
from attune.ros.interfaces import attune_msgs
from attune.ros.lifecycle import AutostartLifecycleNode
from attune.ros.params import ParamSpec
from attune.ros.screen import MessageScreen
from attune.ros.throttle import ThrottledReporter

DIAGNOSTICS_TOPIC = '/diagnostics'

#: A publisher, subscription or timer the shell tracks.
_Handle = TypeVar('_Handle')


def stale_input_parameter(without: str, back: str) -> ParamSpec:
    """The `stale_input_s` parameter of a node whose input can stop: `without` names the input
    ('a camera image'), `back` its return ('images come back'). Every node whose DIAGNOSTICS has an
    idle message declares it (a test checks); NodeShell.stale_after_s reads it at each report, so a
    run-time change takes effect at once."""
    return ParamSpec('stale_input_s', IDLE_AFTER_S, f'Seconds without {without} after which /diagnostics reports '
                     f'stale input (WARN); processing resumes by itself when {back}.', min=0.1, max=3600.0,
                     dynamic=True)


class _Failed:
    def __repr__(self) -> str:
        return 'FAILED'


#: What NodeShell.attempt returns when the step raised (the failure is reported already).
FAILED = _Failed()


@dataclass(frozen=True)
class Diagnostics:
    """How a node names itself in /diagnostics: '<node>: <what>', the message when it works and the
    one when no input came for a while ({s:g} in it: the node's stale period in seconds)."""

    what: str
    working: str
    idle: str


class NodeShell(AutostartLifecycleNode):
    """An attune node: tracked publishers, subscriptions and timers, bad-input reports, counters and
    diagnostics. Subclasses set the class attributes and write configure/activate/release."""

    #: The node's /diagnostics status, published once a second; None: the node publishes none.
    DIAGNOSTICS: ClassVar[Diagnostics | None] = None
    #: The node's counters (self.counts), reported in /diagnostics in this order.
    COUNTERS: ClassVar[tuple[str, ...]] = ()
    #: Whether every message received counts as work done for /diagnostics (messages_received, and
    #: not idle): for nodes that fuse or act on messages rather than process frames.
    INPUT_IS_WORK: ClassVar[bool] = False
    #: The logger level of bad-input reports ('error' for perception, 'warning' for robot bridges).
    BAD_INPUT_LEVEL: ClassVar[str] = 'error'
    #: Whether the node sends messages over 1 MB (images, event packets). Nodes that do not get the
    #: small shared-memory segment (attune.ros.dds) when they run in a process of their own.
    SENDS_LARGE_MESSAGES: ClassVar[bool] = False

    def __init__(self, name: str, parameters: tuple[ParamSpec, ...], **kwargs: Any) -> None:
        self._msgs = attune_msgs()
        self._made_on_configure: list[tuple[str, Any]] = []
        self._made_on_activate: list[tuple[str, Any]] = []
        self._activating = False
        self.counts: dict[str, int] = dict.fromkeys(self.COUNTERS, 0)
        self.processing_ms: deque[float] = deque(maxlen=300)
        self.last_input: float | None = None
        self.screen = MessageScreen()
        self.received = 0  # messages delivered to the node's subscriptions (screened or not)
        # Deferred to the logger: the node has no logger before AutostartLifecycleNode.__init__.
        self.bad_input = ThrottledReporter(lambda line: getattr(self.get_logger(), self.BAD_INPUT_LEVEL)(line))
        super().__init__(name, parameters, **kwargs)

    # --- creating what is destroyed for the node -------------------------------------------------
    def add_publisher(self, msg_type: type[MsgT], topic: str, qos_profile: QoSProfile, *,
                      lifecycle: bool = True) -> Publisher[MsgT]:
        """A publisher, destroyed on cleanup (on deactivate when made in activate()). lifecycle:
        publishes only while active (results); false: always (diagnostics, latched robot state)."""
        if lifecycle:
            return self._track('lifecycle_publisher', self.create_lifecycle_publisher(msg_type, topic, qos_profile))
        return self._track('publisher', self.create_publisher(msg_type, topic, qos_profile))

    def add_subscription(self, msg_type: type[MsgT], topic: str, callback: Callable[[MsgT], None],
                         qos_profile: QoSProfile) -> Subscription[MsgT]:
        """A subscription; made in activate() (its place), it is destroyed on deactivate. Every message
        is screened first (attune.ros.screen: absurd stamps, oversized fields, Faces outside physical
        ranges or over the per-message limit, unknown tracks), and an exception from `callback` is
        reported as bad input instead of reaching the executor."""
        if msg_type.__name__ == 'Faces':
            self.screen.has_faces_input = True
        return self._track('subscription', self.create_subscription(msg_type, topic, self._screened(callback),
                                                                    qos_profile))

    def _screened(self, callback: Callable[[MsgT], None]) -> Callable[[MsgT], None]:
        def screened(msg: MsgT) -> None:
            self.received += 1
            rejections = self.screen.rejections(msg, self.get_clock().now().nanoseconds)
            for rejection in rejections:
                self.bad_input.report(rejection.kind, rejection.reason, rejection.n)
            if self.screen.drops_message(rejections):
                return
            if self.attempt('callback', f'dropped {type(msg).__name__}', callback, msg) is not FAILED \
                    and self.INPUT_IS_WORK:
                self.last_input = time.monotonic()
                self.count('messages_received')
        return screened

    def add_timer(self, period_s: float, callback: Callable[[], None]) -> Timer:
        """A timer on the node clock, destroyed on cleanup."""
        return self._track('timer', self.create_timer(period_s, callback))

    def tracked(self) -> list[tuple[str, Any]]:
        """(kind, handle) of everything the shell will destroy, oldest first."""
        return [*self._made_on_configure, *self._made_on_activate]

    def _track(self, kind: str, handle: _Handle) -> _Handle:
        (self._made_on_activate if self._activating else self._made_on_configure).append((kind, handle))
        return handle

    def _destroy(self, made: list[tuple[str, Any]], kinds: tuple[str, ...]) -> None:
        for kind, handle in [item for item in made if item[0] in kinds]:
            getattr(self, f'destroy_{kind}')(handle)
            made.remove((kind, handle))

    def rebuilt(self, old: Any, build: Callable[[], Any], what: str) -> Any:
        """Close `old` (when it can be closed) and build its successor with build(); None, the node
        idle until the parameters are fixed, after logging why when building fails."""
        close = getattr(old, 'close', None)
        if close is not None:
            close()
        try:
            return build()
        except AttuneError as exc:
            self.get_logger().error(f'{what} not rebuilt, node idle until fixed: {exc}')
            return None

    # --- reporting -------------------------------------------------------------------------------
    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def attempt(self, kind: str, what: str, step: Callable[..., Any], *args: Any) -> Any:
        """step(*args), or FAILED after reporting '<what>: <error type>: <error>' as bad input of
        `kind`: a failing frame or message must not take the node down."""
        try:
            return step(*args)
        except Exception as exc:  # noqa: BLE001 - the node lives on; the report names the error
            self.bad_input.report(kind, f'{what}: {type(exc).__name__}: {exc}')
            return FAILED

    def processed(self, start: float, counter: str | None = None) -> None:
        """Record one input handled since time.perf_counter() `start` (and count it under `counter`)."""
        self.processing_ms.append((time.perf_counter() - start) * 1e3)
        self.last_input = time.monotonic()
        if counter:
            self.count(counter)

    def diagnostic_values(self) -> dict[str, Any]:
        """The node's values in /diagnostics (its counters; extend for more)."""
        return dict(self.counts)

    def diagnostic_error(self) -> str:
        """Why the node cannot work at all ('' when it can): the status becomes ERROR."""
        return ''

    def stale_after_s(self) -> float:
        """Seconds without input after which the node reports itself idle (its `stale_input_s`
        parameter, stale_input_parameter(); IDLE_AFTER_S for a node without one)."""
        return float(self.params.get('stale_input_s', IDLE_AFTER_S))

    def diagnostics(self) -> DiagnosticArray:
        d = self.DIAGNOSTICS
        if d is None:
            raise AttuneError(f'{type(self).__name__} sets no DIAGNOSTICS, so it publishes no /diagnostics status')
        stale_s = self.stale_after_s()
        return node_status(self, d.what, working=d.working, idle=d.idle.format(s=stale_s), last_input=self.last_input,
                           processing_ms=self.processing_ms, bad_input=self.bad_input,
                           values=self.diagnostic_values(), error=self.diagnostic_error(), idle_after_s=stale_s)

    def _publish_diagnostics(self) -> None:
        self._diagnostics_pub.publish(self.diagnostics())

    # --- lifecycle -------------------------------------------------------------------------------
    def _configure_all(self) -> None:
        max_faces = self.params.get('max_faces_per_message', DEFAULT_MAX_FACES)
        self.screen = MessageScreen(limits=FaceLimits(max_faces=max_faces))
        if self.DIAGNOSTICS is not None:
            self._diagnostics_pub = self.add_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, qos.RESULTS,
                                                       lifecycle=False)
            self.add_timer(1.0, self._publish_diagnostics)
        super()._configure_all()

    def _activate_all(self) -> None:
        self._activating = True
        try:
            super()._activate_all()
        finally:
            self._activating = False

    def _deactivate_all(self) -> None:
        super()._deactivate_all()
        self._destroy(self._made_on_activate, ('subscription', 'timer', 'lifecycle_publisher', 'publisher'))

    def _release_all(self) -> None:
        # Inputs and timers stop first, then the node frees its own things (it may still publish
        # a last message), then its publishers go.
        for made in (self._made_on_activate, self._made_on_configure):
            self._destroy(made, ('subscription', 'timer'))
        super()._release_all()
        for made in (self._made_on_activate, self._made_on_configure):
            self._destroy(made, ('lifecycle_publisher', 'publisher'))
