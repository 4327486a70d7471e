"""The model card of a spiking FER run (`<name>.md` beside `<name>.onnx`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from attune.emotions import EMOTIONS
from attune.events.energy import OpEnergy

DATA = """\
## Data and licences
The weights are trained on, and do not contain, these images and videos (all events are emulated by
attune's own emulator; no image or event data ships with the model):
- `london_ccby` (Face Research Lab London Set, DeBruine & Jones 2017, doi:10.6084/m9.figshare.5047666.v5):
  CC BY 4.0; adults who consented to research and web use. Each person's neutral photo is morphed into
  their smiling one along the FaceMesh landmarks (piecewise-affine warp + cross-dissolve, 17 morphs,
  frames in between blended) and played at 30 fps as onsets (neutral -> smile) and offsets (smile ->
  neutral) with random timing, peak and sensor settings, under the node's saccades; the photos also give
  saccade windows (stills).
- `muxspace` (github.com/muxspace/facial_expressions, commit 5fb9c13): repository Apache-2.0, images scraped
  (news photos, film stills, stock photos: third-party rights); saccade windows over the stills.
- `video/faces` (LivePortrait driving videos d0, d3, d6, MIT repository; likenesses are third-party content):
  windows along the videos.
- Targets (distillation): the frame-based expression teacher (`attune.expression.teacher.ExpressionTeacher`,
  its defaults) labels every photo, every morph and every video frame; a window's target is the teacher's
  soft labels of the face it ends on (videos: its last 0.1 s). Where photo labels exist (london), the target
  mixes in the photo labels with weight `label_mix`: along a morph, interpolated by the morph amount, or with
  `--onset-truth` as the windows are scored (neutral at the neutral photo, smile from half way).
- Split by person (london person id; muxspace person = file name without the trailing _NNNN; a video is its
  own person): a seeded quarter of each folder's people is held out; held-out people get fixed windows.
  Of the remaining people, a seeded `val_fraction` per folder (another draw) is kept out of training as
  validation people: settings are chosen on them, so the held-out numbers are reported once."""

LIMITS = """\
## Limits
- Morphs are not real expression dynamics: a smile's onset is a blend between two photos taken minutes
  apart (head pose and lighting also change a little, and change along). Real onsets differ in timing and
  in what moves first; the three videos are the only real dynamics (three people).
- Distilled from the frame teacher: where the teacher is wrong, the student learns it. Teacher agreement on
  muxspace is agreement, not accuracy (the human labels are noisy student labels, scored separately).
- Trained on emulated events only; on a real event camera the input statistics differ (noise, bandwidth,
  face size); the real recording is used for energy only (it has no labels).
- Energy counts arithmetic only (no memory traffic), as the CS3D paper and most SNN papers do; on a CPU
  or GPU the spiking model is not cheaper: the saving needs event-driven hardware.
- Quality test: `test/events/test_spiking_fer_quality.py` scores the London onset windows of the held-out
  people against the photo labels and fails below a floor just under the accuracy measured here."""


def _fmt(v: object) -> str:
    return f'{v:.3f}' if isinstance(v, float) else ('-' if v is None else str(v))


def _emulation(spec: dict[str, Any]) -> str:
    from dataclasses import fields

    from attune.events.emulated_windows import SACCADE_SCALE
    from attune.events.window_set import WindowSpec

    # The run's spec as recorded (summaries before margin and saccades were recorded get the defaults).
    window = WindowSpec(**{f.name: spec[f.name] for f in fields(WindowSpec) if f.name in spec}).window_options()
    return ('## Emulation\n'
            f'Every window is emulated with the node\'s face window (`attune.events.face_window.WindowOptions`: '
            f'{window.size} px, margin **{window.margin:g}**) and saccades of **{window.saccade_amplitude_px:g} '
            f'px** (training: {SACCADE_SCALE[0]:g}-{SACCADE_SCALE[1]:g} times that, drawn per window). The ONNX '
            'metadata records them (`window_margin`, `saccade_amplitude_px`, `saccade_scale`); `event_emulator_node` '
            'follows the margin and checks its `saccade_amplitude_px` against them at start-up, warning on a '
            'mismatch (with 1 px only the hair line and the face outline fire and a still smile is invisible).')


def _validation(summary: dict[str, Any]) -> list[str]:
    """The validation people's table (model selection), when the run kept some."""
    if not summary.get('validation_windows'):
        return []
    lines = ['', f"## Validation people (training people kept out of training; {summary['validation_windows']} "
             'windows; settings were chosen on these)', '',
             '| model | London onset: neutral vs smile | London onset: teacher agreement | London offset | '
             'muxspace stills: teacher agreement | video: teacher agreement |', '|---|---|---|---|---|---|']
    for kind, entry in summary['models'].items():
        v = entry.get('validation', {})
        onset = v.get('london_onset', {})
        lines.append(f"| {kind} | {_fmt(onset.get('accuracy'))} | {_fmt(onset.get('teacher_agreement'))} | "
                     f"{_fmt(v.get('london_offset', {}).get('accuracy'))} | {_fmt(v.get('teacher_agreement'))} | "
                     f"{_fmt(v.get('video_teacher_agreement'))} |")
    return lines


def model_card(name: str, summary: dict[str, Any], command: str, notes: list[str], real_events: Path | None) -> str:
    """The Markdown model card of a run."""
    energy = OpEnergy()
    spec, config = summary['spec'], summary['config']
    lines = [f'# {name}: spiking facial-expression recognition on event windows (CS3D)', '',
             'Produced by `attune train spiking-fer`; inference: `attune.nodes.spiking_fer_node` (onnxruntime).', '',
             '## Model',
             f"- CS3D: 3 stages of decomposed 3D convolution (1x3x3 spatial, LIF, 3x1x1 temporal) + LIF, "
             f"channels {config['channels']}, spatio-temporal attention before the last neurons, "
             f"firing rates averaged over time onto a {config.get('readout', 1)}x{config.get('readout', 1)} grid per "
             'channel, linear head; LIF with soft reset, beta 0.5, threshold 1, arctan surrogate gradient.',
             f"- Input: (1, 2, {spec['bins']}, {spec['size']}, {spec['size']}) binary OFF/ON occupancy frames of a "
             f"{spec['window_s']} s face window; output `probabilities` over " + ', '.join(EMOTIONS) +
             ' and `ops` = [accumulates, MACs] of that window.',
             f"- Parameters: {summary['models']['cs3d']['parameters']}. The C3D twin (same depth and widths, dense "
             '3x3x3 convolutions, BN, ReLU) is trained in the same run on the same windows.',
             f"- Training: {summary['train_windows']} windows, {config['epochs']} epochs, AdamW lr {config['lr']}, "
             f"batch {config['batch_size']}, soft-label cross-entropy (class weight count^-{config['class_balance']}), "
             f"random horizontal flips, shifts up to {config.get('shift_px', 0)} px, "
             f"{config.get('event_dropout', 0):g} of the events dropped, onset/offset windows weighted "
             f"{config.get('change_weight', 1.0):g}x, targets sharpened with temperature "
             f"{config.get('target_temperature', 1.0):g}.", '', _emulation(spec), '', DATA]
    lines += [f'- {n}' for n in notes] + [
             '', '## Command', '', '```', command or '(not recorded)', '```']
    lines += _validation(summary) + ['', '## Held-out people (never seen in training or model selection)', '',
                                     '| model | London onset: neutral vs smile | (7-way) | London offset '
                                     '| muxspace stills: teacher agreement | muxspace vs human labels '
                                     '| video: teacher agreement |', '|---|---|---|---|---|---|---|']
    teacher_row = None
    for kind, entry in summary['models'].items():
        e = entry.get('eval', {})
        on, off, st = e.get('london_onset', {}), e.get('london_offset', {}), e.get('stills', {})
        lines.append(f"| {kind} | {_fmt(on.get('accuracy'))} | {_fmt(on.get('accuracy_7way'))} | "
                     f"{_fmt(off.get('accuracy'))} | {_fmt(e.get('teacher_agreement'))} | "
                     f"{_fmt(st.get('accuracy_vs_human_labels'))} | {_fmt(e.get('video_teacher_agreement'))} |")
        teacher_row = teacher_row or (f"| frame teacher (same frames) | {_fmt(on.get('teacher_accuracy'))} | - | "
                                      f"{_fmt(off.get('teacher_accuracy'))} | 1 | "
                                      f"{_fmt(st.get('teacher_accuracy_vs_human_labels'))} | 1 |")
    if teacher_row:
        lines.append(teacher_row)
    first = next(iter(summary['models'].values())).get('eval', {})
    on = first.get('london_onset', {})
    lines += ['', f"London onset windows: {on.get('windows', 0)} windows of {on.get('subjects', 0)} people "
              '(1 s neutral, 0.4 s onset, 0.5 s smiling; windows every 0.1 s; truth neutral while the morph is at '
              'the neutral photo, smile once it is half way or more; top-1 among neutral and happy). '
              f"Stills: {first.get('stills', {}).get('windows', 0)} windows of "
              f"{first.get('stills', {}).get('subjects', 0)} people. Per group:", '',
              '| model | group | windows | people | teacher agreement | accuracy | 2-way | majority |',
              '|---|---|---|---|---|---|---|---|']
    for kind, entry in summary['models'].items():
        for group, m in entry.get('held_out', {}).items():
            lines.append(f"| {kind} | {group} | {m['windows']} | {m['subjects']} | {_fmt(m['teacher_agreement'])} "
                         f"| {_fmt(m.get('accuracy'))} | {_fmt(m.get('accuracy_2way'))} "
                         f"| {_fmt(m.get('majority_rate'))} |")
    lines += ['', '## Energy (measured, same windows for both models)', '',
              f'Per-op energies: MAC {energy.mac_pj} pJ, AC {energy.ac_pj} pJ ({energy.source}). '
              'CS3D: accumulates = spikes x fan-out counted on the actual spikes (first layer: input events x '
              'fan-out), MACs = LIF membrane updates + attention + head. C3D twin: MACs of its dense 3D '
              'convolutions + head.', '',
              '| windows | n | CS3D accumulates | CS3D MACs | C3D MACs | CS3D uJ | C3D uJ | ratio |',
              '|---|---|---|---|---|---|---|---|']
    for where, e in summary.get('energy', {}).items():
        label = 'held-out (emulated)' if where == 'held_out' else f'real ({real_events.name if real_events else ""})'
        lines.append(f"| {label} | {e['windows']} | {e['snn_accumulates']:.0f} | {e['snn_macs']:.0f} | "
                     f"{e['dense_macs']:.0f} | {e['snn_energy_uJ']:.2f} | {e['dense_energy_uJ']:.2f} | "
                     f"{e['energy_ratio']:.3f} |")
    lines += ['', LIMITS, '']
    return '\n'.join(lines)
