"""event_emulator_node: camera images + /attune/faces in, one emulated EventPacket per face out.

Images and Faces are matched by exact header stamp (attune.expression.sync). For each face of a
matched pair, the face box (smoothed per track) is cropped to a fixed window, moved along N-MNIST
saccades (so still faces also give events), and fed to that track's DVS emulator
(attune.events: per-pixel log intensity, contrast thresholds with mismatch, refractory period,
leak and shot noise, event times interpolated between frames). Core logic: attune.events.face_window.

Subscribes:  <image_topic>   sensor_msgs/Image or CompressedImage, sensor QoS
             <faces_topic>   attune/Faces (reliable)
Publishes:   <events_topic>  attune/EventPacket per face and image (header = the image's; face_id = track id;
                             width = height = window_size; roi = the window's box; emulated = true); a track's
                             first image only starts its emulator and publishes nothing
             /diagnostics    diagnostic_msgs/DiagnosticArray, once per second
"""
from __future__ import annotations

import time
from collections import deque
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import CompressedImage, Image

from attune.errors import AttuneError, ImageError
from attune.events.emulator import EmulatorOptions
from attune.events.face_window import FaceEventEmulator, WindowOptions, to_gray
from attune.expression.sync import ExactStampSynchronizer
from attune.imaging import DEFAULT_MAX_PIXELS, rgb8_from_compressed, rgb8_from_image
from attune.ros import qos
from attune.ros.diagnostics import node_status
from attune.ros.event_msgs import events_to_msg
from attune.ros.face_msgs import faces_from_msg
from attune.ros.interfaces import attune_msgs
from attune.ros.lifecycle import AutostartLifecycleNode
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.stamps import to_ns
from attune.ros.throttle import ThrottledReporter

NODE_NAME = 'event_emulator_node'

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('image_topic', '/camera/image_raw', 'Camera image topic to subscribe to.'),
    ParamSpec('image_transport', 'raw', 'raw: sensor_msgs/Image; compressed: sensor_msgs/CompressedImage.',
              choices=('raw', 'compressed')),
    ParamSpec('faces_topic', '/attune/faces', 'Faces of the same images (matched by exact header stamp).'),
    ParamSpec('events_topic', '/attune/events/faces', 'Where the per-face EventPackets go.'),
    ParamSpec('reliable_input', False, 'Subscribe to images with reliable QoS (lossless bag processing).'),
    ParamSpec('input_queue_depth', 5, 'Images kept while the node is busy.', min=1, max=100),
    ParamSpec('sync_queue_size', 30, 'Images (and Faces) buffered while waiting for their partner.', min=1, max=1000),
    ParamSpec('window_size', 32, 'Side in pixels of the face window (the spiking model resizes any size).',
              min=8, max=512),
    ParamSpec('window_margin', 0.15, 'Border added on each side of the face box, as a fraction of its side.',
              min=0.0, max=2.0),
    ParamSpec('saccade_amplitude_px', 1.0, 'Size of the N-MNIST-style saccade triangle in window pixels '
              '(0: off; then a still face gives no events).', min=0.0, max=64.0),
    ParamSpec('saccade_period_s', 0.3, 'Duration of one saccade triangle (three saccades).', min=0.01, max=10.0),
    ParamSpec('roi_smoothing', 0.6, 'Weight of the previous box when smoothing a track\'s window (jitter makes '
              'spurious events).', min=0.0, max=0.99),
    ParamSpec('pos_threshold', 0.2, 'ON contrast threshold (log intensity).', min=0.01, max=5.0),
    ParamSpec('neg_threshold', 0.2, 'OFF contrast threshold (log intensity).', min=0.01, max=5.0),
    ParamSpec('threshold_sigma', 0.03, 'Per-pixel threshold mismatch (standard deviation).', min=0.0, max=1.0),
    ParamSpec('refractory_s', 0.001, 'Dead time of a pixel after an event.', min=0.0, max=1.0),
    ParamSpec('leak_hz', 0.1, 'Spontaneous ON events per pixel per second.', min=0.0, max=100.0),
    ParamSpec('shot_noise_hz', 0.1, 'Random ON/OFF noise events per pixel per second.', min=0.0, max=100.0),
    ParamSpec('seed', 0, 'Seeds threshold mismatch and noise (per track: seed + track number).', min=0, max=2**31 - 1),
    ParamSpec('track_timeout_s', 2.0, 'A track not seen for this long loses its emulator state.', min=0.01,
              max=3600.0),
    ParamSpec('max_image_pixels', DEFAULT_MAX_PIXELS, 'Larger images are rejected.', min=1, max=2**31 - 1),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


def emulator_options(p: dict[str, Any], seed_offset: int = 0) -> EmulatorOptions:
    return EmulatorOptions(pos_threshold=p['pos_threshold'], neg_threshold=p['neg_threshold'],
                           threshold_sigma=p['threshold_sigma'], refractory_s=p['refractory_s'],
                           leak_hz=p['leak_hz'], shot_noise_hz=p['shot_noise_hz'], seed=p['seed'] + seed_offset)


def window_options(p: dict[str, Any]) -> WindowOptions:
    return WindowOptions(size=p['window_size'], margin=p['window_margin'],
                         saccade_amplitude_px=p['saccade_amplitude_px'], saccade_period_s=p['saccade_period_s'],
                         smoothing=p['roi_smoothing'])


class EventEmulatorNode(AutostartLifecycleNode):
    """See the module docstring."""

    def __init__(self, **kwargs: Any) -> None:
        self._msgs = attune_msgs()
        self._tracks: dict[str, FaceEventEmulator] = {}
        self._track_count = 0
        self._sync: ExactStampSynchronizer | None = None
        self._image_sub = self._faces_sub = None
        self._events_pub = self._diag_pub = self._diag_timer = None
        self._latency_ms: deque[float] = deque(maxlen=300)
        self._packets = 0
        self._events = 0
        self._last_time: float | None = None
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)
        self._bad_input = ThrottledReporter(self.get_logger().error)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        window_options(self.params)
        emulator_options(self.params)
        self._sync = ExactStampSynchronizer(queue_size=self.params['sync_queue_size'])
        self._events_pub = self.create_lifecycle_publisher(self._msgs.EventPacket, self.params['events_topic'],
                                                           qos.RESULTS)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', qos.RESULTS)
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics)

    def activate(self) -> None:
        p = self.params
        image_qos = qos.image_input(p['reliable_input'], p['input_queue_depth'])
        msg_type = CompressedImage if p['image_transport'] == 'compressed' else Image
        self._image_sub = self.create_subscription(msg_type, p['image_topic'], self._on_image, image_qos)
        self._faces_sub = self.create_subscription(self._msgs.Faces, p['faces_topic'], self._on_faces, qos.RESULTS)
        self.get_logger().info(f"emulating events for faces on {p['faces_topic']} in {p['image_topic']} "
                               f"-> {p['events_topic']}")

    def deactivate(self) -> None:
        for sub in (self._image_sub, self._faces_sub):
            if sub is not None:
                self.destroy_subscription(sub)
        self._image_sub = self._faces_sub = None

    def release(self) -> None:
        self._tracks.clear()
        if self._sync is not None:
            self._sync.clear()
        if self._diag_timer is not None:
            self.destroy_timer(self._diag_timer)
            self._diag_timer = None
        if self._events_pub is not None:
            self.destroy_lifecycle_publisher(self._events_pub)
        if self._diag_pub is not None:
            self.destroy_publisher(self._diag_pub)
        self._events_pub = self._diag_pub = None

    # --- callbacks -------------------------------------------------------------------------------
    def _on_image(self, msg: Any) -> None:
        if self._sync is None:
            return
        pair = self._sync.add_first(to_ns(msg.header.stamp), msg)
        if pair is not None:
            self._process(*pair)

    def _on_faces(self, msg: Any) -> None:
        if self._sync is None:
            return
        pair = self._sync.add_second(to_ns(msg.header.stamp), msg)
        if pair is not None:
            self._process(*pair)

    def _process(self, image: Any, faces_msg: Any) -> None:
        stamp = to_ns(image.header.stamp)
        start = time.perf_counter()
        self._expire(stamp)
        if not faces_msg.faces:
            return
        decode = rgb8_from_compressed if isinstance(image, CompressedImage) else rgb8_from_image
        try:
            gray = to_gray(decode(image, max_pixels=self.params['max_image_pixels']))
            frame = faces_from_msg(faces_msg)
        except (ImageError, ValueError) as exc:
            self._bad_input.report(type(exc).__name__, f'dropped image (stamp {stamp} ns): {exc}')
            return
        for face in frame.faces:
            emulator = self._tracks.get(face.id)
            if emulator is None:
                self._track_count += 1
                emulator = self._tracks[face.id] = FaceEventEmulator(
                    window_options(self.params), emulator_options(self.params, self._track_count))
                first = True
            else:
                first = False
            try:
                events, roi = emulator.step(gray, face.box, stamp)
            except AttuneError as exc:
                self._bad_input.report('face', f'dropped face {face.id!r} (stamp {stamp} ns): {exc}')
                continue
            if first:
                continue
            self._events_pub.publish(events_to_msg(events, image.header, face_id=face.id, roi=roi, emulated=True))
            self._packets += 1
            self._events += len(events)
        self._latency_ms.append((time.perf_counter() - start) * 1e3)
        self._last_time = time.monotonic()

    def _expire(self, stamp: int) -> None:
        timeout = int(self.params['track_timeout_s'] * 1e9)
        for face_id in [k for k, e in self._tracks.items() if e.last_seen_ns is not None
                        and e.last_seen_ns < stamp - timeout]:
            del self._tracks[face_id]

    def _publish_diagnostics(self) -> None:
        values: dict[str, Any] = {'packets_published': self._packets, 'events_published': self._events,
                                  'tracks': len(self._tracks)}
        if self._sync is not None:
            values.update({f'sync_{k}': v for k, v in self._sync.counts.as_dict().items()})
        self._diag_pub.publish(node_status(
            self, 'event emulator', working='emulating', idle='no matched images and faces in the last 5 s',
            last_input=self._last_time, processing_ms=self._latency_ms, bad_input=self._bad_input,
            values=values))


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = EventEmulatorNode


def main(args: list[str] | None = None) -> int:
    return run_node(EventEmulatorNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
