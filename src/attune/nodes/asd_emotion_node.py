"""asd_emotion_node: attune/Faces + camera images in, attune/AffectState per face out, and the name-call protocol.

A thin lifecycle node over attune.affect: the ASD emotion model (ResNet on the face crop + GCN on the
FaceMesh landmarks, ONNX) runs per tracked face at most `rate_hz` times per second, on images matched
to their Faces by exact header stamp; outputs are calibrated per child (neutral baseline) and smoothed
per track. The name-call protocol (attune.affect.name_call) is started by a NAME_CALL BehaviorCommand
and measures the head turn toward the robot from every Faces message (no image needed) and the affect
after the call; results go out in AffectState's protocol fields and into the session log (JSONL).
The stimulus time is the robot's speech onset (rising edge of <speaking_topic> within speaking_wait_s
after the command), else the command's stamp; STOP aborts running calls. docs/asd_emotion.md has the
protocol definition and the contract with the behaviour node (docs/behavior.md).

Subscribes:  <faces_topic>    attune/Faces (reliable, depth 30)
             <image_topic>    sensor_msgs/Image or CompressedImage (image_transport)
             <command_topic>  attune/BehaviorCommand: NAME_CALL starts the protocol, STOP aborts it
             <speaking_topic> std_msgs/Bool (reliable, transient local): the robot is speaking
Publishes:   /attune/affect   attune/AffectState: one per classified face (protocol fields set while a
                              call targets that face), one WAITING when a call starts, one per result
             /diagnostics     diagnostic_msgs/DiagnosticArray, once per second
Writes:      <session_log_dir>/asd_session_<time>[_<session_name>].jsonl when session_log_dir is set
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool, Header

from attune.affect.estimator import AffectEstimator, EstimatorOptions
from attune.affect.name_call import (
    FaceSample,
    NameCallOptions,
    NameCallProtocol,
    NameCallResult,
    PendingCall,
    SpeechOnset,
)
from attune.affect.session_log import SessionLog
from attune.errors import AttuneError
from attune.face.types import FaceFrame
from attune.ros import qos
from attune.ros.affect_msgs import affect_state_msg, name_call_from_msg
from attune.ros.face_msgs import faces_from_msg
from attune.ros.faces_join import FacesJoinNode, faces_join_parameters
from attune.ros.image_input import image_input_parameters
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.shell import FAILED, Diagnostics
from attune.ros.stamps import from_ns, to_ns

NODE_NAME = 'asd_emotion_node'

PARAMETERS: tuple[ParamSpec, ...] = (
    *faces_join_parameters(),
    *image_input_parameters(topic_help='Camera image topic the Faces were computed from.', queue_depth=5),
    ParamSpec('command_topic', '/attune/behavior/command', 'attune/BehaviorCommand topic; NAME_CALL starts the '
              'name-call protocol.'),
    ParamSpec('model_path', '', "The model's ONNX file; '' = the shipped asd_emotion.onnx."),
    ParamSpec('threads', 1, 'onnxruntime threads.', min=1, max=16),
    ParamSpec('rate_hz', 5.0, 'Most model runs per face track and second (image stamps); faces in between '
              'are not classified.', min=0.1, max=60.0, dynamic=True),
    ParamSpec('smoothing_tau_s', 0.5, 'Time constant of the per-track exponential average of the emotion '
              'probabilities (0: no smoothing).', min=0.0, max=60.0, dynamic=True),
    ParamSpec('max_abs_yaw_deg', 60.0, 'Faces turned further (yaw or pitch) are not classified (the head pose '
              'still feeds the protocol).', min=0.0, max=90.0, dynamic=True),
    ParamSpec('calibration_s', 5.0, "Per-child neutral baseline: collected over a face track's first seconds "
              '(the child settled and relaxed), then outputs are corrected toward a neutral adult face; 0: off.',
              min=0.0, max=600.0),
    ParamSpec('calibration_max_gain', 4.0, 'Largest correction factor per emotion of the calibration.',
              min=1.0, max=100.0),
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
    ParamSpec('speaking_topic', '/attune/robot/speaking', "std_msgs/Bool from the robot bridge: the rising edge "
              "after a NAME_CALL is the stimulus time; '' = always use the command's stamp."),
    ParamSpec('speaking_wait_s', 2.0, 'Name call: how long after the command a speech onset is awaited before the '
              "command's stamp is used instead.", min=0.0, max=10.0, dynamic=True),
    ParamSpec('stimulus_delay_s', 0.0, 'Name call: added to the stimulus time (speech onset or command stamp), '
              'e.g. the time from the start of speech to the name within it.', min=0.0, max=10.0, dynamic=True),
    ParamSpec('frame_timeout_s', 2.0, 'Name call: without frames for this long (wall time), running calls are '
              'decided on the node clock.', min=0.1, max=60.0),
    ParamSpec('session_log_dir', '', "Folder of the therapist's JSONL session log; '' = no log."),
    ParamSpec('session_name', '', 'Added to the session log file name (e.g. a session or child code).'),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)

#: The robot bridge's speaking state: latched (transient local), as the bridges publish it.
SPEAKING_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                          durability=DurabilityPolicy.TRANSIENT_LOCAL)

#: Faces in: reliable, a second of a 30 fps stream (the protocol needs every frame's head pose).
FACES_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=30, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.VOLATILE)

_PROTOCOL_PARAMS = ('response_window_s', 'turn_threshold_deg', 'confirm_samples', 'baseline_s', 'presence_s',
                    'lost_timeout_s', 'affect_window_s', 'min_latency_s')


def estimator_options(p: dict[str, Any]) -> EstimatorOptions:
    return EstimatorOptions(rate_hz=p['rate_hz'], smoothing_tau_s=p['smoothing_tau_s'],
                            max_abs_yaw_deg=p['max_abs_yaw_deg'], calibration_s=p['calibration_s'],
                            calibration_max_gain=p['calibration_max_gain'], model_path=p['model_path'],
                            threads=p['threads'])


def protocol_options(p: dict[str, Any]) -> NameCallOptions:
    values = {name: p[name] for name in _PROTOCOL_PARAMS}
    history = values['baseline_s'] + max(values['response_window_s'], values['affect_window_s']) + 5.0
    return NameCallOptions(**values, history_s=history)


class AsdEmotionNode(FacesJoinNode):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('ASD emotion', working='estimating', idle='no faces in the last 5 s')
    COUNTERS = ('faces_messages', 'affect_published', 'name_calls')
    FACES_QOS = FACES_QOS
    UNMATCHED_FACES_TOLERANCE = 30  # a few are normal (images dropped by sensor QoS)

    def __init__(self, **kwargs: Any) -> None:
        self._estimator: AffectEstimator | None = None
        self._protocol: NameCallProtocol | None = None
        self._onset: SpeechOnset | None = None
        self._log: SessionLog | None = None
        self._results: dict[str, int] = {}
        self._frame_id = ''
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        p = self.params
        self._estimator = AffectEstimator(estimator_options(p))
        self._protocol = NameCallProtocol(protocol_options(p))
        self._onset = SpeechOnset(p['speaking_wait_s'])
        if p['session_log_dir']:
            self._log = SessionLog(p['session_log_dir'], p['session_name'], self._log_header())
        self._affect_pub = self.add_publisher(self._msgs.AffectState, '/attune/affect', qos.RESULTS)
        self.add_timer(0.2, self._on_protocol_timer)
        if self._log is not None:
            self.get_logger().info(f'session log: {self._log.path}')

    def activate(self) -> None:
        p = self.params
        self.subscribe_faces()
        self.add_subscription(self._msgs.BehaviorCommand, p['command_topic'], self._on_command, qos.RESULTS)
        if p['speaking_topic']:
            self.add_subscription(Bool, p['speaking_topic'], self._on_speaking, SPEAKING_QOS)
        self.subscribe_images()
        self.get_logger().info(f"affect from {p['faces_topic']} and {p['image_transport']} images on "
                               f"{p['image_topic']}; name calls from {p['command_topic']}")

    def release(self) -> None:
        self._estimator = None
        self._protocol = None
        self._onset = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _log_header(self) -> dict[str, Any]:
        p = self.params
        estimator = self._estimator
        model = {'path': str(estimator.model.path), **dataclasses.asdict(estimator.model.info)} if estimator else {}
        return {'node': self.get_name(), 'model': model,
                'protocol': {name: p[name] for name in (*_PROTOCOL_PARAMS, 'speaking_topic', 'speaking_wait_s',
                                                        'stimulus_delay_s')},
                'affect': {name: p[name] for name in ('rate_hz', 'smoothing_tau_s', 'max_abs_yaw_deg',
                                                      'calibration_s', 'calibration_max_gain')}}

    # --- parameters ------------------------------------------------------------------------------
    def parameters_changed(self, names: set[str]) -> None:
        if self._estimator is not None and names & {'rate_hz', 'smoothing_tau_s', 'max_abs_yaw_deg'}:
            self._estimator.set_options(estimator_options(self.params))
        if self._onset is not None and 'speaking_wait_s' in names:
            self._onset.wait_s = self.params['speaking_wait_s']
        if self._protocol is not None and names & set(_PROTOCOL_PARAMS):
            try:
                self._protocol.options = protocol_options(self.params)
            except AttuneError as exc:
                self.get_logger().error(f'protocol options not changed: {exc}')

    # --- inputs ----------------------------------------------------------------------------------
    def on_faces(self, msg: Any) -> None:
        if self._sync is None or self._protocol is None or self._estimator is None:
            return
        stamp = to_ns(msg.header.stamp)
        try:
            frame = faces_from_msg(msg)
        except ValueError as exc:
            self.bad_input.report('faces', f'dropped Faces (stamp {stamp} ns): {exc}')
            return
        self._frame_id = msg.header.frame_id
        self.count('faces_messages')
        self.last_input = time.monotonic()
        samples = [FaceSample(f.id, f.head_pose.yaw if f.head_pose is not None else math.nan, f.box.center[0])
                   for f in frame.faces]
        self._finish(self._protocol.observe_faces(stamp, samples), msg.header)
        due, _ = self._estimator.due(frame)
        item = (msg, frame, due)
        image = self.join_faces(stamp, item)
        if image is not None:
            self._classify(item, image)

    def process_joined(self, faces: Any, image: Any) -> None:
        self._classify(faces, image)

    def _on_command(self, msg: Any) -> None:
        if self._protocol is None or self._onset is None:
            return
        try:
            if int(msg.action) == int(self._msgs.BehaviorCommand.STOP):
                target = msg.target_id.strip()
                self._onset.cancel(target)
                self._finish(self._protocol.abort(target, 'stopped'), self._header(self._protocol.now_ns))
                return
            call = name_call_from_msg(msg)
        except Exception as exc:  # noqa: BLE001 - a bad message must not take the node down
            self.bad_input.report('command', f'ignored BehaviorCommand: {type(exc).__name__}: {exc}')
            return
        if call is None:
            return
        now = self.get_clock().now().nanoseconds
        stamp = call.stimulus_ns
        if stamp == 0:
            stamp = now
            self.bad_input.report('command_stamp', 'NAME_CALL without a header stamp: its receive time is used '
                                   'instead')
        self.count('name_calls')
        topic = self.params['speaking_topic']
        reports = bool(topic) and self.count_publishers(topic) > 0
        self.get_logger().info(f"name call '{call.name}' for face '{call.target_id or 'most central'}' "
                               f"(command stamp {stamp} ns{', waiting for the speech onset' if reports else ''})")
        pending = PendingCall(stamp, now, call.target_id, call.name)
        self._start_calls(self._onset.command(pending, reports))

    def _on_speaking(self, msg: Bool) -> None:
        if self._onset is not None:
            self._start_calls(self._onset.speaking(msg.data, self.get_clock().now().nanoseconds))

    def _start_calls(self, ready: list[tuple[int, PendingCall]]) -> None:
        if self._protocol is None:
            return
        for stimulus, call in ready:
            stimulus += int(self.params['stimulus_delay_s'] * 1e9)
            if self._estimator is not None and call.target_id and call.name:
                self._estimator.calibration.link(call.target_id, call.name)  # the child's baseline follows them
            self._finish(self._protocol.start(stimulus, call.target_id, call.name), self._header(stimulus))

    def _header(self, stamp_ns: int | None) -> Header:
        from builtin_interfaces.msg import Time

        return Header(stamp=from_ns(stamp_ns or self.get_clock().now().nanoseconds, Time), frame_id=self._frame_id)

    # --- work ------------------------------------------------------------------------------------
    def _classify(self, faces_item: tuple[Any, FaceFrame, list], image_msg: Any) -> None:
        faces_msg, frame, due = faces_item
        estimator = self._estimator
        if estimator is None or not due:
            return
        start = time.perf_counter()
        stamp = frame.stamp_ns
        rgb = self.decode(image_msg, stamp, size=(frame.width, frame.height))
        if rgb is None:
            return
        outcome = self.attempt('processing', f'dropped frame (stamp {stamp} ns)', estimator.estimate, rgb, frame, due)
        if outcome is FAILED:
            return
        estimates, skipped = outcome
        for face in skipped:
            self.bad_input.report('bad_face', f'skipped face {face.track} (stamp {stamp} ns): {face.reason}')
        for track, baseline in estimator.completed:
            self.get_logger().info(f'face {track}: neutral baseline from {baseline.samples} outputs')
            self._log_write({'type': 'calibration', 'face_id': track, 'samples': baseline.samples,
                             'start_ns': baseline.start_ns, 'end_ns': baseline.end_ns,
                             'baseline': [round(float(x), 4) for x in baseline.probabilities]})
        for estimate in estimates:
            self._protocol.observe_affect(estimate.track, estimate.stamp_ns, estimate.probabilities, estimate.valence)
            waiting = self._protocol.waiting_for(estimate.track)
            self._affect_pub.publish(affect_state_msg(faces_msg.header, estimate.track, estimate, waiting))
            self.count('affect_published')
        self.processing_ms.append((time.perf_counter() - start) * 1e3)

    def _finish(self, results: list[NameCallResult], header: Any) -> None:
        """Publish protocol states/results (and log the final ones)."""
        for result in results:
            estimate = self._estimator.latest(result.target_id) if self._estimator and result.target_id else None
            out_header = Header(stamp=from_ns(result.decided_ns, type(header.stamp)), frame_id=header.frame_id)
            self._affect_pub.publish(affect_state_msg(out_header, result.target_id, estimate, result))
            if not result.final:
                continue
            status = result.status.name
            self._results[status] = self._results.get(status, 0) + 1
            latency = f' after {result.latency_s:.2f} s' if math.isfinite(result.latency_s) else ''
            self.get_logger().info(f"name call '{result.name}' (face '{result.target_id}'): {status.lower()} "
                                   f'({result.reason}){latency}')
            if self._estimator is not None and result.target_id and result.name:
                self._estimator.calibration.link(result.target_id, result.name)
            if self._log is not None:
                try:
                    baseline = self._estimator.calibration.status(result.target_id) if self._estimator else 'off'
                    self._log.name_call(result, calibration=baseline)
                except (OSError, ValueError) as exc:
                    self.bad_input.report('session_log', f'session log not written: {exc}')

    def _log_write(self, record: dict[str, Any]) -> None:
        if self._log is None:
            return
        try:
            self._log.write(record)
        except (OSError, ValueError) as exc:
            self.bad_input.report('session_log', f'session log not written: {exc}')

    def _on_protocol_timer(self) -> None:
        """Start calls whose wait for a speech onset ran out; decide running calls on the node clock when
        frames stopped coming (camera or face node gone)."""
        protocol = self._protocol
        if protocol is None:
            return
        if self._onset is not None and self._onset.pending:
            self._start_calls(self._onset.tick(self.get_clock().now().nanoseconds))
        if not protocol.waiting():
            return
        timeout = self.params['frame_timeout_s']
        idle = self.last_input is None or time.monotonic() - self.last_input > timeout
        if not idle:
            return
        now = self.get_clock().now().nanoseconds - int(timeout * 1e9)
        self._finish(protocol.advance(now), self._header(now))

    def diagnostic_values(self) -> dict[str, Any]:
        values = super().diagnostic_values()
        values['name_calls_running'] = len(self._protocol.waiting()) if self._protocol else 0
        values.update({f'results_{k.lower()}': v for k, v in self._results.items()})
        if self._log is not None:
            values['session_log'] = str(self._log.path)
        return values


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = AsdEmotionNode


def main(args: list[str] | None = None) -> int:
    return run_node(AsdEmotionNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
