"""Spiking FER on event streams without ROS: the ONNX model runner and the per-track pipeline.

SpikingFerModel runs an exported CS3D model with onnxruntime and reads what it needs from the
model's metadata (labels, window length, bins, size, source name, per-op energies), so the node
can never disagree with the training about the window. EventFerPipeline keeps a sliding window
per face track (or one for a whole event sensor, whose face box it finds), and classifies a
track's window when enough history and events are there, at most once per `period_s`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from attune.errors import ConfigError, ModelFileError
from attune.events.energy import OpEnergy
from attune.events.errors import EventError
from attune.events.representation import event_frames
from attune.events.sensor_roi import activity_face_box
from attune.events.sliding_window import SlidingWindow, TrackWindows
from attune.events.types import EventArray
from attune.inference import onnx_session
from attune.resources import package_data

if TYPE_CHECKING:
    from attune.events.window_set import WindowSpec

#: The shipped model (trained by `attune train spiking-fer`, see its model card beside it).
DEFAULT_MODEL = 'cs3d_fer.onnx'


def default_model_path() -> Path:
    return package_data('models', 'resources', DEFAULT_MODEL)


class SpikingFerModel:
    """An exported spiking FER model (ONNX) and its metadata.

    Attributes:
        labels: output labels in order. window_ns, bins, size: the window the model was trained on.
        source: the name results carry (Expression.source). energy: per-op energies for `ops`.
        channels, readout: the network's stage widths and readout grid (models exported before they
            were recorded: 16,32,64 and 1).
        saccade_amplitude_px: the emulator's saccade amplitude the training windows were made with (None:
            not recorded); saccade_scale: the range of factors of it drawn per training window.
        window_margin: the face window's border (fraction of the face box side per side) the training
            windows were cropped with (None: not recorded; models before it was recorded used 0.15).

    Raises:
        ModelFileError: the file is missing, not loadable, or lacks the metadata or outputs expected.
    """

    def __init__(self, path: Path | str = '', threads: int = 1) -> None:
        self.path = Path(path) if path else default_model_path()
        self._session = onnx_session(self.path, threads=threads, what='spiking FER model')
        meta = self._session.get_modelmeta().custom_metadata_map
        try:
            self.labels = tuple(meta['labels'].split(','))
            self.window_ns = int(round(float(meta['window_s']) * 1e9))
            self.bins, self.size = int(meta['bins']), int(meta['size'])
            self.source = meta['source']
            self.channels = tuple(int(c) for c in meta.get('channels', '16,32,64').split(','))
            self.readout = int(meta.get('readout', '1'))
            self.energy = OpEnergy(mac_pj=float(meta['mac_pj']), ac_pj=float(meta['ac_pj']))
            amplitude = meta.get('saccade_amplitude_px')
            self.saccade_amplitude_px = None if amplitude is None else float(amplitude)
            self.saccade_scale = tuple(float(v) for v in meta.get('saccade_scale', '1,1').split(','))[:2]
            margin = meta.get('window_margin')
            self.window_margin = None if margin is None else float(margin)
        except (KeyError, ValueError) as exc:
            raise ModelFileError(f'{self.path} lacks the spiking FER metadata ({exc}); export it with '
                                 '`attune train spiking-fer`') from None
        outputs = [o.name for o in self._session.get_outputs()]
        if outputs[:2] != ['probabilities', 'ops']:
            raise ModelFileError(f'{self.path} has outputs {outputs}, expected probabilities, ops')
        self.input_name = self._session.get_inputs()[0].name

    def window_spec(self) -> WindowSpec:
        """The windows this model was trained on (length, bins, size, face window margin and saccades)."""
        from attune.events.window_set import WindowSpec

        extra = {k: v for k, v in (('margin', self.window_margin), ('saccade_px', self.saccade_amplitude_px))
                 if v is not None}
        return WindowSpec(window_s=self.window_ns / 1e9, bins=self.bins, size=self.size, **extra)

    def classify(self, frames: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
        """(probabilities (N, K), ops (N, 2)) for (N, 2, bins, size, size) frames."""
        frames = np.ascontiguousarray(frames, dtype=np.float32)
        if frames.ndim == 4:
            frames = frames[None]
        expected = (2, self.bins, self.size, self.size)
        if frames.shape[1:] != expected:
            raise EventError(f'frames of shape {frames.shape[1:]} given to a model that expects {expected}')
        probs, ops = self._session.run(['probabilities', 'ops'], {self.input_name: frames})
        return probs, ops

    def energy_uj(self, ops: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return self.energy.energy_pj(ops) * 1e-6


def saccade_mismatch(model: SpikingFerModel, emulator_amplitude_px: float) -> str | None:
    """Why emulated events with this saccade amplitude do not suit `model`, or None when they do (or
    the model does not say what it was trained with). The saccades decide what a still face shows: with
    too small ones only the hair line and the outline fire and a held smile is invisible."""
    expected = model.saccade_amplitude_px
    if expected is None:
        return None
    low, high = (expected * f for f in model.saccade_scale)
    if low - 1e-6 <= emulator_amplitude_px <= high + 1e-6:
        return None
    return (f'saccade_amplitude_px is {emulator_amplitude_px:g} but {model.path.name} was trained on emulated '
            f'windows with {expected:g} px (drawn from {low:g}-{high:g}); its expressions will be unreliable. '
            f'Set the event emulator\'s saccade_amplitude_px to {expected:g}.')


@dataclass(frozen=True)
class FerResult:
    """One classified window: the track, the stamp that ended it, the distribution over `labels`,
    the window's events, its counted ops [accumulates, MACs] and their energy in microjoules, and the
    pixel box used (sensor windows; the whole packet grid for face packets)."""

    face_id: str
    stamp_ns: int
    labels: tuple[str, ...]
    probabilities: npt.NDArray[Any]
    events: int
    ops: npt.NDArray[Any]
    energy_uj: float
    box: tuple[int, int, int, int]

    @property
    def label(self) -> str:
        return self.labels[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))


@dataclass(frozen=True)
class FerOptions:
    """When windows are classified.

    min_events: fewest events in a window worth classifying (a still face without saccades has none).
    min_history: fraction of the window length a track must have seen first.
    period_s: least time (on the packet clock) between two results of one track.
    track_timeout_s: a track silent this long is forgotten.
    sensor_roi: for whole-sensor packets: 'activity' (find the head, see attune.events.sensor_roi),
        'full' (the whole sensor), or 'xmin,ymin,xmax,ymax' (a fixed normalized box).
    roi_smoothing: weight of the previous activity box (0: none).
    """

    min_events: int = 100
    min_history: float = 0.5
    period_s: float = 0.1
    track_timeout_s: float = 2.0
    sensor_roi: str = 'activity'
    roi_smoothing: float = 0.5

    def __post_init__(self) -> None:
        parse_sensor_roi(self.sensor_roi)
        if self.min_events < 0 or not 0.0 <= self.min_history <= 1.0 or self.period_s < 0 or self.track_timeout_s <= 0:
            raise ConfigError(f'bad FerOptions {self}')
        if not 0.0 <= self.roi_smoothing < 1.0:
            raise ConfigError(f'roi_smoothing must be in [0, 1), got {self.roi_smoothing}')


def parse_sensor_roi(text: str) -> tuple[float, float, float, float] | str:
    """'activity', 'full', or a fixed normalized box from 'xmin,ymin,xmax,ymax'.

    Raises:
        ConfigError: anything else, or a box that is empty or outside [0, 1].
    """
    if text in ('activity', 'full'):
        return text
    try:
        box = tuple(float(v) for v in text.split(','))
    except ValueError:
        box = ()
    if len(box) != 4 or not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in box) or box[2] <= box[0] \
            or box[3] <= box[1]:
        raise ConfigError(f"sensor_roi must be 'activity', 'full' or 'xmin,ymin,xmax,ymax' in [0, 1], got {text!r}")
    return box


class EventFerPipeline:
    """Sliding windows per track -> frames -> the ONNX model (not thread-safe; one caller)."""

    def __init__(self, model: SpikingFerModel, options: FerOptions | None = None) -> None:
        self.model = model
        self.options = options or FerOptions()
        timeout = int(self.options.track_timeout_s * 1e9)
        self.windows = TrackWindows(model.window_ns, timeout)
        self._last_result: dict[str, int] = {}
        self._sensor_box: dict[str, npt.NDArray[Any]] = {}
        self.results = 0

    def add_face_packet(self, face_id: str, events: EventArray, stamp_ns: int) -> FerResult | None:
        """Add a face-window packet; a result when this track's window is due for classification."""
        window = self.windows.add(face_id, events, stamp_ns)
        if not self._due(face_id, window):
            return None
        box = (0, 0, window.width, window.height)
        return self._classify(face_id, window, box)

    def add_sensor_packet(self, face_id: str, events: EventArray, stamp_ns: int) -> FerResult | None:
        """Add a whole-sensor packet; the face box comes from options.sensor_roi."""
        window = self.windows.add(face_id, events, stamp_ns)
        if not self._due(face_id, window):
            return None
        roi = parse_sensor_roi(self.options.sensor_roi)
        w, h = window.width, window.height
        if roi == 'full':
            box = (0, 0, w, h)
        elif roi == 'activity':
            found = activity_face_box(window.events(), min_events=max(self.options.min_events, 50))
            if found is None:
                return None
            box = self._smoothed(face_id, found)
        elif isinstance(roi, tuple):
            x0, y0, x1, y1 = roi
            box = (int(x0 * w), int(y0 * h), max(int(round(x1 * w)), int(x0 * w) + 1),
                   max(int(round(y1 * h)), int(y0 * h) + 1))
        else:  # parse_sensor_roi returns nothing else
            raise ConfigError(f'sensor_roi {self.options.sensor_roi!r} is not a region')
        return self._classify(face_id, window, box)

    def forget_idle(self, now_ns: int) -> list[str]:
        gone = self.windows.expire(now_ns)
        for k in gone:
            self._last_result.pop(k, None)
            self._sensor_box.pop(k, None)
        return gone

    def _smoothed(self, face_id: str, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        new = np.asarray(box, np.float64)
        old = self._sensor_box.get(face_id)
        a = self.options.roi_smoothing
        value = new if old is None else a * old + (1 - a) * new
        self._sensor_box[face_id] = value
        x0, y0, x1, y1 = (int(round(v)) for v in value)
        return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)

    def _due(self, face_id: str, window: SlidingWindow) -> bool:
        if window.end_ns is None or window.history_ns < self.options.min_history * self.model.window_ns:
            return False
        last = self._last_result.get(face_id)
        return last is None or window.end_ns - last >= self.options.period_s * 1e9

    def _classify(self, face_id: str, window: SlidingWindow, box: tuple[int, int, int, int]) -> FerResult | None:
        events = window.events()
        x0, y0, x1, y1 = box
        inside = int(np.count_nonzero((events.x >= x0) & (events.x < x1) & (events.y >= y0) & (events.y < y1)))
        if inside < self.options.min_events:
            return None
        stop = window.end_ns
        if stop is None:  # _due checked it; kept for the type
            return None
        frames = event_frames(events, self.model.bins, self.model.size, self.model.size,
                              stop - self.model.window_ns, stop + 1, box)
        probs, ops = self.model.classify(frames)
        self._last_result[face_id] = stop
        self.results += 1
        return FerResult(face_id=face_id, stamp_ns=stop, labels=self.model.labels, probabilities=probs[0],
                         events=inside, ops=ops[0], energy_uj=float(self.model.energy_uj(ops[0])[0]), box=box)
