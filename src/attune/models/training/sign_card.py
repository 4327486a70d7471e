"""Model cards of the sign models: `<model>.md` beside the ONNX file with the data and its licence, the
exact command, every setting and the measured quality."""
from __future__ import annotations

import shlex
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from attune.sign.features import FEATURE_DIM
from attune.sign.model import SignModelInfo
from attune.sign.segments import LandmarkDataset

if TYPE_CHECKING:
    from attune.models.training.sign_training import SignTrainResult


def write_model_card(result: SignTrainResult, path: Path, command: list[str], data_note: str) -> Path:
    """`<model>.md` beside the ONNX file: data and licence, the exact command, measured quality, limits."""
    info, m = result.info, result.metrics
    lines = [f'# Sign model `{info.name}` ({info.task})', '',
             f'- Vocabulary ({len(info.glosses)}): {", ".join(info.glosses)}',
             f'- Input: (B, T, {FEATURE_DIM}) features of attune.sign.features, groups read: {", ".join(info.groups)}; '
             + (f'window T = {info.window} frames' if info.task == 'isolated' else f'T <= {info.window} frames'),
             f'- Output: {"(B, C) logits" if info.task == "isolated" else "(B, T, C + 1) logits, CTC blank = 0"}',
             '- Architecture: SignEncoder (frame MLP blocks with TemporalAdapters: learned positional embeddings + '
             'depthwise temporal convolution, after USTM\'s TAPE) + '
             + ('attention pooling and a linear classifier' if info.task == 'isolated' else 'a frame-wise CTC head'),
             f'- Parameters: {sum(p.numel() for p in result.model.parameters()):,}', '',
             '## Data and licence', '', data_note, '',
             '## How it was made', '', '```', shlex.join(command), '```', '',
             'Settings: ' + ', '.join(f'{k}={v}' for k, v in asdict(result.config).items() if k != 'compose'), '',
             *_variation_lines(result),
             '## Measured quality (held-out recording blocks)', '']
    for key, value in m.items():
        if key == 'per_gloss_accuracy':
            worst = sorted(value.items(), key=lambda kv: kv[1])[:5]
            lines.append('- worst glosses: ' + ', '.join(f'{g} {v:.3f}' for g, v in worst))
        elif key == 'training_s':
            lines.append(f'- {key}: {value:.0f} (2 shared CPU cores)')
        elif isinstance(value, dict):
            lines.append(f'- {key}: ' + ', '.join(f'{k} {v:.4f}' for k, v in value.items()))
        elif isinstance(value, float):
            lines.append(f'- {key}: {value:.4f}' if abs(value) >= 1e-3 or value == 0 else f'- {key}: {value:.1e}')
        else:
            lines.append(f'- {key}: {value}')
    lines += ['', '## Limits', '', *_limits(info)]
    Path(path).write_text('\n'.join(lines) + '\n')
    return Path(path)


def _variation_lines(result: SignTrainResult) -> list[str]:
    if result.info.task != 'isolated' or not result.config.vary_signer:
        return []
    from attune.sign.augment import signer_variation

    variation = signer_variation(result.split.train)
    return ['Signer variation (attune.sign.augment, drawn per block and epoch; the same ranges, seed '
            '`VARIED_SEED`, make the `held_out_varied_*` numbers): '
            + ', '.join(f'{k}={v}' for k, v in asdict(variation).items()), '']


def _limits(info: SignModelInfo) -> list[str]:
    notes = ['- Held-out blocks come from the same recordings as the training blocks (one session per gloss): '
             'the numbers measure generalization to other moments of a recording, not to new signers, '
             'cameras or lighting. Expect lower accuracy on new people.']
    if info.task == 'isolated':
        notes.append('- `held_out_varied_*` re-renders the held-out blocks as other hands and cameras would show '
                     'them (simulated from this signer\'s landmarks): a proxy for unseen signers, not a measurement '
                     'on them.')
    if info.dataset == 'asl_alphabet':
        notes.append('- One signer, one hand, one camera; J and Z (letters drawn in the air) are learned from that '
                     "signer's recordings only.")
    if info.task == 'continuous':
        notes.append('- Trained and scored on sequences composed from isolated recordings (interpolated '
                     'transitions, timing jitter), not on natural continuous signing, whose co-articulation '
                     'is richer.')
    return notes


_DATA_NOTES = {
    'asl_alphabet': 'ASL fingerspelling letters A-Z: `asl_alphabet/landmarks.csv` of ../shared/data/hands, '
                    'MediaPipe Hands landmarks of one signer, one recording per letter (~320 frames), from '
                    'borisgraudt/asl-ai (dataset card: CC0-1.0; repository: MIT).',
    'kinivi_handshape': 'kinivi hand shapes Open/Close/Pointer/OK: `kinivi/keypoint.csv` of ../shared/data/hands, '
                        'from kinivi/hand-gesture-recognition-mediapipe (Apache-2.0).',
    'kinivi_trajectory': 'kinivi fingertip gestures Stop/Clockwise/Counter Clockwise/Move: '
                         '`kinivi/point_history.csv` of ../shared/data/hands, from '
                         'kinivi/hand-gesture-recognition-mediapipe (Apache-2.0).',
}


def data_note(dataset: LandmarkDataset) -> str:
    note = _DATA_NOTES.get(dataset.name, f'{dataset.description} (licence: that of your recordings).')
    return (f'{note} {len(dataset.segments)} segments in {len({s.block for s in dataset.segments})} recording '
            f'blocks, {dataset.frames()} frames; blocks as in attune.sign.datasets.')
