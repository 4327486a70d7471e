"""spiking_fer_node: EventPackets in (per face, or from a whole event sensor), Expression out (CS3D SNN, ONNX).

Each face track (EventPacket.face_id) gets a sliding window of its events; when the window has
enough history and events it is binned into the model's frames and classified with onnxruntime,
at most once per `period_s` per track. Whole-sensor packets (empty face_id, e.g. a live event
camera or `attune bag from-aedat4`) go to one window whose face box comes from `sensor_roi`.
Core logic: attune.events.fer.

Subscribes:  <face_events_topic>    attune/EventPacket per face (from event_emulator_node)
             <sensor_events_topic>  attune/EventPacket of a whole event sensor ('' = off)
Publishes:   /attune/expression     attune/Expression (header = the packet that ended the window,
                                    source = the model's name, e.g. 'cs3d_snn'; valence/arousal from the
                                    circumplex of its distribution; no action units)
             /diagnostics           diagnostic_msgs/DiagnosticArray, once per second (incl. energy per window)
"""
from __future__ import annotations

import math
import statistics
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np

from attune.emotions import valence_arousal
from attune.errors import AttuneError
from attune.events.fer import EventFerPipeline, FerOptions, FerResult, SpikingFerModel
from attune.expression.observation import ExpressionObservation
from attune.ros import msg_event_packet, msg_expression, qos
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.shell import FAILED, Diagnostics, NodeShell, stale_input_parameter
from attune.ros.stamps import to_ns

if TYPE_CHECKING:
    from attune.msg import EventPacket

NODE_NAME = 'spiking_fer_node'

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('model_path', '', "The spiking FER ONNX model; '' = the shipped cs3d_fer.onnx."),
    ParamSpec('face_events_topic', '/attune/events/faces', 'Per-face EventPackets (emulated or from a face-aware '
              'event pipeline).'),
    ParamSpec('sensor_events_topic', '/attune/events/sensor', "Whole-sensor EventPackets of a live event camera "
              "(or a bag from `attune bag from-aedat4`); '' = do not subscribe."),
    ParamSpec('expression_topic', '/attune/expression', 'Where Expression results go.'),
    ParamSpec('reliable_input', False, 'Subscribe with reliable QoS (lossless bag processing) instead of best effort.'),
    ParamSpec('input_queue_depth', 20, 'Packets kept while the node is busy.', min=1, max=1000),
    ParamSpec('sensor_roi', 'activity', "Face box in whole-sensor packets: 'activity' (the head at the top of the "
              "moving silhouette), 'full', or 'xmin,ymin,xmax,ymax' (normalized)."),
    ParamSpec('sensor_face_id', 'event_camera', 'face_id of results from whole-sensor packets.'),
    ParamSpec('min_events', 100, 'Fewest events in a window worth classifying.', min=0, max=10**7, dynamic=True),
    ParamSpec('min_history', 0.5, 'Fraction of the window a track must have seen before its first result.',
              min=0.0, max=1.0, dynamic=True),
    ParamSpec('period_s', 0.1, 'Least time between two results of one track (packet clock).', min=0.0, max=60.0,
              dynamic=True),
    ParamSpec('track_timeout_s', 2.0, 'A track without packets for this long is forgotten.', min=0.01, max=3600.0),
    ParamSpec('threads', 1, 'onnxruntime threads.', min=1, max=64),
    stale_input_parameter('an EventPacket', 'event packets come back'),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)

_PIPELINE_PARAMS = {'min_events', 'min_history', 'period_s'}


def fer_options(p: dict[str, Any]) -> FerOptions:
    return FerOptions(min_events=p['min_events'], min_history=p['min_history'], period_s=p['period_s'],
                      track_timeout_s=p['track_timeout_s'], sensor_roi=p['sensor_roi'])


def expression_of(result: FerResult, source: str) -> ExpressionObservation:
    """The attune/Expression of one classified window."""
    probs = tuple(float(v) for v in result.probabilities)
    valence, arousal = valence_arousal(result.labels, np.asarray(probs))
    return ExpressionObservation(face_id=result.face_id, source=source, label=result.label,
                                 confidence=float(result.confidence), labels=tuple(result.labels), probabilities=probs,
                                 valence=valence, arousal=arousal)


class SpikingFerNode(NodeShell):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('spiking FER', working='classifying', idle='no event packets in the last {s:g} s')
    COUNTERS = ('packets',)

    def __init__(self, **kwargs: Any) -> None:
        self._pipeline: EventFerPipeline | None = None
        self._energy_uj: deque[float] = deque(maxlen=300)
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        model = SpikingFerModel(self.params['model_path'], threads=self.params['threads'])
        self._pipeline = EventFerPipeline(model, fer_options(self.params))
        self._pub = self.add_publisher(self._msgs.Expression, self.params['expression_topic'], qos.RESULTS)

    def activate(self) -> None:
        p = self.params
        in_qos = qos.image_input(p['reliable_input'], p['input_queue_depth'])
        self.add_subscription(self._msgs.EventPacket, p['face_events_topic'], self._on_face, in_qos)
        if p['sensor_events_topic']:
            self.add_subscription(self._msgs.EventPacket, p['sensor_events_topic'], self._on_sensor, in_qos)
        assert self._pipeline is not None, 'activate follows configure, which builds the pipeline'
        model = self._pipeline.model
        expects = ('' if model.saccade_amplitude_px is None
                   else f"; expects emulated events with saccade_amplitude_px {model.saccade_amplitude_px:g}")
        self.get_logger().info(f"{model.source} ({model.path.name}) on {p['face_events_topic']}"
                               + (f" and {p['sensor_events_topic']}" if p['sensor_events_topic'] else '') + expects)

    def release(self) -> None:
        self._pipeline = None

    def parameters_changed(self, names: set[str]) -> None:
        if self._pipeline is not None and names & _PIPELINE_PARAMS:
            self._pipeline.options = fer_options(self.params)

    # --- callbacks -------------------------------------------------------------------------------
    def _on_face(self, msg: EventPacket) -> None:
        self._process(msg, sensor=not msg.face_id)

    def _on_sensor(self, msg: EventPacket) -> None:
        self._process(msg, sensor=True)

    def _process(self, msg: EventPacket, sensor: bool) -> None:
        pipeline = self._pipeline
        if pipeline is None:
            return
        stamp = to_ns(msg.header.stamp)
        start = time.perf_counter()
        face_id = msg.face_id or self.params['sensor_face_id']
        try:
            packet, check = msg_event_packet.checked_from_msg(msg)
        except AttuneError as exc:
            self.bad_input.report('packet', f'dropped EventPacket of {face_id!r} (stamp {stamp} ns): {exc}')
            return
        events = packet.events
        if check.outside:
            self.bad_input.report('outside', f'EventPacket of {face_id!r} (stamp {stamp} ns): dropped {check.outside} '
                                  f'events outside its {events.width}x{events.height} grid')
        if check.resorted:
            self.bad_input.report('unsorted', f'EventPacket of {face_id!r} (stamp {stamp} ns): timestamps were '
                                  'not sorted; sorted them')
        add = pipeline.add_sensor_packet if sensor else pipeline.add_face_packet
        result = self.attempt('processing', f'dropped window of {face_id!r} (stamp {stamp} ns)', add, face_id,
                              events, stamp)
        if result is FAILED:
            return
        self.count('packets')
        pipeline.forget_idle(stamp)
        if result is not None:
            self._pub.publish(msg_expression.to_msg(expression_of(result, pipeline.model.source), msg.header))
            self.processing_ms.append((time.perf_counter() - start) * 1e3)
            if math.isfinite(result.energy_uj):
                self._energy_uj.append(result.energy_uj)
        self.last_input = time.monotonic()

    def diagnostic_values(self) -> dict[str, Any]:
        energy = statistics.mean(self._energy_uj) if self._energy_uj else float('nan')
        return {**super().diagnostic_values(), 'results': self._pipeline.results if self._pipeline is not None else 0,
                'energy_uJ_per_window': f'{energy:.3f}'}


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = SpikingFerNode


def main(args: list[str] | None = None) -> int:
    return run_node(SpikingFerNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
