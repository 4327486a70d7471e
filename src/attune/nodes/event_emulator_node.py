"""event_emulator_node: camera images + /attune/faces in, one emulated EventPacket per face out.

Images and Faces are matched by exact header stamp (attune.expression.sync). For each face of a
matched pair, the face box (smoothed per track) is cropped to a fixed window, moved along N-MNIST
saccades (so still faces also give events), and fed to that track's DVS emulator
(attune.events: per-pixel log intensity, contrast thresholds with mismatch, refractory period,
leak and shot noise, event times interpolated between frames). Core logic: attune.events.face_window.

Subscribes:  <image_topic>   sensor_msgs/Image or CompressedImage, sensor QoS
             <faces_topic>   attune/Faces (reliable)
Publishes:   <events_topic>  attune/EventPacket per face and image (header = the image's; face_id = track id;
                             width = height = the window side; roi = the window's box; emulated = true); a track's
                             first image only starts its emulator and publishes nothing
             /diagnostics    diagnostic_msgs/DiagnosticArray, once per second
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from attune.errors import AttuneError, ConfigError
from attune.events.emulator import EmulatorOptions
from attune.events.face_window import FaceEventEmulator, WindowOptions, to_gray
from attune.events.types import RegionEvents
from attune.ros import msg_event_packet, qos
from attune.ros.faces_join import FacesJoinNode, JoinedFaces, faces_join_parameters
from attune.ros.image_input import image_input_parameters
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.shell import Diagnostics
from attune.ros.stamps import to_ns

if TYPE_CHECKING:
    from sensor_msgs.msg import CompressedImage, Image

    from attune.events.fer import SpikingFerModel

NODE_NAME = 'event_emulator_node'

#: Face window side when window_size is 0 and there is no spiking model to read it from.
DEFAULT_WINDOW_SIZE = WindowOptions().size
#: Face window margin when window_margin is -1 and the spiking model does not record one (models that
#: predate the record were trained with it).
DEFAULT_WINDOW_MARGIN = WindowOptions().margin

PARAMETERS: tuple[ParamSpec, ...] = (
    *image_input_parameters(queue_depth=5),
    *faces_join_parameters(faces_help='Faces of the same images (matched by exact header stamp).'),
    ParamSpec('events_topic', '/attune/events/faces', 'Where the per-face EventPackets go.'),
    ParamSpec('window_size', 0, "Side in pixels of the face window; 0 = the size the spiking model "
              "(spiking_model_path) was trained on, 32 without one. Another size is warned about: the spiking "
              "model resamples it onto its own, which it was not trained on.", min=0, max=512),
    ParamSpec('window_margin', -1.0, 'Border added on each side of the face box, as a fraction of its side; -1 = '
              'the margin the spiking model was trained with (0.15 when it does not record one, or without a '
              'model). Another margin is warned about: the model sees faces at another scale.', min=-1.0, max=2.0),
    ParamSpec('saccade_amplitude_px', 2.5, 'Size of the N-MNIST-style saccade triangle in window pixels '
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
    ParamSpec('spiking_model_path', '', "The spiking FER model these events are for: at start-up the window "
              "size and margin it was trained on are read (window_size 0, window_margin -1) and its recorded "
              "saccade amplitude is checked against saccade_amplitude_px and a mismatch is warned about; '' = the "
              "shipped cs3d_fer.onnx, 'none' = no model (32 px windows, margin 0.15, no check)."),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


def emulator_options(p: dict[str, Any], seed_offset: int = 0) -> EmulatorOptions:
    return EmulatorOptions(pos_threshold=p['pos_threshold'], neg_threshold=p['neg_threshold'],
                           threshold_sigma=p['threshold_sigma'], refractory_s=p['refractory_s'],
                           leak_hz=p['leak_hz'], shot_noise_hz=p['shot_noise_hz'], seed=p['seed'] + seed_offset)


def window_options(p: dict[str, Any], size: int | None = None, margin: float | None = None) -> WindowOptions:
    """The window of parameters `p`; `size` and `margin` replace window_size and window_margin (the
    resolved values when those say 'the model's')."""
    size = size if size is not None else p['window_size'] or DEFAULT_WINDOW_SIZE
    if size < 8:
        raise ConfigError(f'window_size must be 0 (the spiking model\'s) or in [8, 512], got {size}')
    margin = margin if margin is not None else p['window_margin']
    if margin < 0:
        if margin != -1:
            raise ConfigError(f'window_margin must be -1 (the spiking model\'s) or in [0, 2], got {margin}')
        margin = DEFAULT_WINDOW_MARGIN
    return WindowOptions(size=size, margin=margin,
                         saccade_amplitude_px=p['saccade_amplitude_px'], saccade_period_s=p['saccade_period_s'],
                         smoothing=p['roi_smoothing'])


class EventEmulatorNode(FacesJoinNode):
    """See the module docstring."""

    SENDS_LARGE_MESSAGES = True  # event packets of a whole frame
    DIAGNOSTICS = Diagnostics('event emulator', working='emulating',
                              idle='no matched images and faces in the last {s:g} s')
    COUNTERS = ('packets_published', 'events_published')
    UNMATCHED_FACES_TOLERANCE = None  # Faces without an image are expected: the emulator needs only some

    def __init__(self, **kwargs: Any) -> None:
        self._tracks: dict[str, FaceEventEmulator] = {}
        self._saccade_check = 'off'
        self._window_size = DEFAULT_WINDOW_SIZE
        self._window_margin = DEFAULT_WINDOW_MARGIN
        self._track_count = 0
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        window_options(self.params)
        emulator_options(self.params)
        model = self._spiking_model()
        self._window_size = self._resolve_window_size(model)
        self._window_margin = self._resolve_window_margin(model)
        self._saccade_check = self._check_saccades(model)
        self._events_pub = self.add_publisher(self._msgs.EventPacket, self.params['events_topic'], qos.RESULTS)

    def _spiking_model(self) -> SpikingFerModel | None:
        """The model named by spiking_model_path (None: 'none', or not loadable, which is warned about)."""
        path = self.params['spiking_model_path']
        if path == 'none':
            return None
        from attune.events.fer import SpikingFerModel

        try:
            return SpikingFerModel(path)
        except AttuneError as exc:
            self.get_logger().warning(f'window size and saccade check without the spiking model: {exc}')
            return None

    def _resolve_window_size(self, model: SpikingFerModel | None) -> int:
        """window_size, or the model's trained size when it is 0; warns when a set size differs from it."""
        size = int(self.params['window_size'])
        if model is None:
            return size or DEFAULT_WINDOW_SIZE
        if size == 0:
            return model.size
        if size != model.size:
            self.get_logger().warning(f'window_size is {size} but {model.path.name} was trained on {model.size} px '
                                      'face windows; it resamples these onto its own and will be less reliable. '
                                      'Set window_size to 0 (follow the model).')
        return size

    def _resolve_window_margin(self, model: SpikingFerModel | None) -> float:
        """window_margin, or the model's trained margin when it is -1; warns when a set margin differs."""
        margin = float(self.params['window_margin'])
        trained = DEFAULT_WINDOW_MARGIN if model is None or model.window_margin is None else model.window_margin
        if margin < 0:
            return trained
        if model is not None and abs(margin - trained) > 1e-6:
            self.get_logger().warning(f'window_margin is {margin:g} but {model.path.name} was trained on face windows '
                                      f'with margin {trained:g}; it sees faces at another scale and will be less '
                                      'reliable. Set window_margin to -1 (follow the model).')
        return margin

    def _check_saccades(self, model: SpikingFerModel | None) -> str:
        """'ok', 'mismatch', 'not recorded' or 'off' (see attune.events.fer.saccade_mismatch); warns once."""
        if model is None:
            return 'off'
        from attune.events.fer import saccade_mismatch

        if model.saccade_amplitude_px is None:
            return 'not recorded'
        problem = saccade_mismatch(model, self.params['saccade_amplitude_px'])
        if problem:
            self.get_logger().warning(problem)
        return 'mismatch' if problem else 'ok'

    def activate(self) -> None:
        p = self.params
        self.subscribe_images()
        self.subscribe_faces()
        self.get_logger().info(f"emulating events for faces on {p['faces_topic']} in {p['image_topic']} "
                               f"-> {p['events_topic']}")

    def release(self) -> None:
        self._tracks.clear()

    # --- processing ------------------------------------------------------------------------------
    def process_joined(self, faces: JoinedFaces, image: Image | CompressedImage) -> None:
        faces_msg, frame = faces.msg, faces.frame
        stamp = to_ns(image.header.stamp)
        start = time.perf_counter()
        self._expire(stamp)
        if not faces_msg.faces:
            return
        rgb = self.decode(image, stamp)
        if rgb is None:
            return
        gray = to_gray(rgb)
        for face in frame.faces:
            emulator = self._tracks.get(face.id)
            if emulator is None:
                self._track_count += 1
                emulator = self._tracks[face.id] = FaceEventEmulator(
                    window_options(self.params, self._window_size, self._window_margin),
                    emulator_options(self.params, self._track_count))
                first = True
            else:
                first = False
            try:
                events, roi = emulator.step(gray, face.box, stamp)
            except AttuneError as exc:
                self.bad_input.report('face', f'dropped face {face.id!r} (stamp {stamp} ns): {exc}')
                continue
            if first:
                continue
            packet = RegionEvents(events, roi, face_id=face.id, emulated=True)
            self._events_pub.publish(msg_event_packet.to_msg(packet, image.header))
            self.count('packets_published')
            self.count('events_published', len(events))
        self.processed(start)

    def _expire(self, stamp: int) -> None:
        timeout = int(self.params['track_timeout_s'] * 1e9)
        for face_id in [k for k, e in self._tracks.items() if e.last_seen_ns is not None
                        and e.last_seen_ns < stamp - timeout]:
            del self._tracks[face_id]

    def diagnostic_values(self) -> dict[str, Any]:
        return {**super().diagnostic_values(), 'tracks': len(self._tracks), 'window_size': self._window_size,
                'window_margin': self._window_margin, 'saccade_check': self._saccade_check}


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = EventEmulatorNode


def main(args: list[str] | None = None) -> int:
    return run_node(EventEmulatorNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
