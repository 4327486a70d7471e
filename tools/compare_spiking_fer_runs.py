"""Compare spiking FER training runs on their validation people (model selection; no test person is scored).

    python tools/compare_spiking_fer_runs.py --cache RUN_CACHE --val-fraction 0.2 BASE.pt OTHER.pt [...]
    python tools/compare_spiking_fer_runs.py --cache CACHE_32 --size-cache 48=CACHE_48 BASE.pt OTHER.pt@48
    python tools/compare_spiking_fer_runs.py --cache CACHE_32 BASE.pt RUN_CACHE/cs3d_fer_cs3d.pt@margin=0.05

A run trained on another face window (`--size`, `--margin`, `--saccade-px`) is named as STATE.pt@WINDOW,
WINDOW a comma list of size=N, margin=F, saccade_px=F (a bare number is the size), and scored on windows
emulated with that window, from the cache given for its size by --size-cache, else from the folder STATE.pt
is in (a run leaves it in its own --cache): the same people, so the comparison stays paired by person.

Each .pt is the CS3D state dict a run left in its --cache (`<name>_cs3d.pt`); its stage widths are read
from its weights, so runs with other `--channels` are compared as they are. All runs must share the seed
and val fraction: the validation people depend on those and on the people in the data only, so runs that
made more windows per source or other targets are scored on the same windows (built here with the default
data options, from the cache of a run that used them), which none of them trained on. Prints each run's
validation headline (London onsets: accuracy against the photo truth and agreement with the teacher, apart)
and, for every run against the first, the difference in London onset accuracy and in muxspace teacher
agreement with a 95 % interval from a bootstrap over people (the windows of one person are not
independent, so people are resampled, not windows).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

SHARED = Path(__file__).resolve().parent.parent.parent / 'shared' / 'data'


def per_person(probs: np.ndarray, val: Any, source: str, kind: str) -> dict[str, np.ndarray]:
    """Per validation person of `source`/`kind`: whether each window is right (onsets: neutral vs smile
    against the photo labels; stills: top-1 equals the teacher's)."""
    mask = (val.source == source) & (val.kind == kind)
    if kind == 'onset':
        mask &= val.truth >= 0
        right = np.where(probs[:, 1] > probs[:, 0], 1, 0) == val.truth
    else:
        right = probs.argmax(axis=1) == val.teacher.argmax(axis=1)
    return {s: right[mask & (val.subject == s)] for s in sorted(set(val.subject[mask].tolist()))}


def parse_window(text: str) -> Any:
    """The WindowSpec of a run's @WINDOW ('' = the default; '48' = size 48; 'size=48,saccade_px=3.75')."""
    from attune.events.dataset import WindowSpec

    fields: dict[str, Any] = {}
    for part in filter(None, text.split(',')):
        key, eq, value = part.partition('=')
        key, value = ('size', key) if not eq else (key, value)
        if key not in ('size', 'margin', 'saccade_px'):
            raise SystemExit(f'unknown window setting {key!r} in @{text} (size, margin, saccade_px)')
        fields[key] = int(value) if key == 'size' else float(value)
    return WindowSpec(**fields)


def stage_widths(state: dict[str, Any]) -> tuple[int, int, int]:
    """The three stage widths of a CS3D state dict (runs with other `--channels` are compared too)."""
    a, b, c = (int(state[f'convs.{i}.spatial.weight'].shape[0]) for i in range(3))
    return a, b, c


def bootstrap(base: list[np.ndarray], other: list[np.ndarray], draws: int, seed: int) -> tuple[float, float, float]:
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(draws):
        idx = rng.integers(0, len(base), len(base))
        diffs.append(np.concatenate([other[i] for i in idx]).mean() - np.concatenate([base[i] for i in idx]).mean())
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return float(np.concatenate(other).mean() - np.concatenate(base).mean()), float(lo), float(hi)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('runs', nargs='+', help='CS3D state dicts (.pt, or .pt@WINDOW); the first is the baseline')
    parser.add_argument('--cache', type=Path, required=True, help='a run cache holding the emulated windows')
    parser.add_argument('--size-cache', action='append', default=[], metavar='SIZE=DIR',
                        help='the cache holding the windows of another size (runs named STATE.pt@SIZE)')
    parser.add_argument('--images', type=Path, action='append', default=None)
    parser.add_argument('--videos', type=Path, action='append', default=None)
    parser.add_argument('--max-photos', type=int, default=1500)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--val-fraction', type=float, default=0.2)
    parser.add_argument('--draws', type=int, default=2000)
    args = parser.parse_args()

    import torch

    from attune.events.dataset import BuildOptions, WindowSpec, build_window_set
    from attune.events.window_set import headline, metrics
    from attune.models.training.spiking_fer_training import SpikingFerTrainConfig, build, predict, validation_mask

    images = args.images or [SHARED / 'faces' / 'london_ccby', SHARED / 'faces' / 'muxspace']
    videos = args.videos or [SHARED / 'video' / 'faces']
    caches = {WindowSpec(): args.cache,
              **{WindowSpec(size=int(k)): Path(v) for k, v in (c.split('=', 1) for c in args.size_cache)}}
    sets: dict[Any, Any] = {}

    def validation(spec: Any, cache: Path) -> Any:
        if spec not in sets:
            data = build_window_set(images, videos, spec, BuildOptions(seed=args.seed, max_photos=args.max_photos),
                                    cache, log=lambda _: None)
            sets[spec] = data.subset(validation_mask(data, args.val_fraction, args.seed))
        return sets[spec]

    torch.set_num_threads(1)
    probs, vals = [], []
    for run in args.runs:
        path, _, window = str(run).partition('@')
        spec = parse_window(window)
        val = validation(spec, caches.get(spec, Path(path).parent))
        state = torch.load(path, weights_only=True)
        model = build('cs3d', SpikingFerTrainConfig(channels=stage_widths(state)))
        model.load_state_dict(state)
        probs.append(predict(model, val.x)[0])
        vals.append(val)
        h = headline(metrics(probs[-1], val))
        print(run, json.dumps({'onset': h['london_onset']['accuracy'], 'offset': h['london_offset']['accuracy'],
                               'onset_teacher_agreement': h['london_onset']['teacher_agreement'],
                               'teacher_agreement': h['teacher_agreement'],
                               'video_teacher_agreement': h.get('video_teacher_agreement'),
                               'windows': len(val.x)}))
    for path, p, val in zip(args.runs[1:], probs[1:], vals[1:]):
        for source, kind in (('london_ccby', 'onset'), ('muxspace', 'still')):
            first, mine = per_person(probs[0], vals[0], source, kind), per_person(p, val, source, kind)
            if first.keys() != mine.keys():
                raise SystemExit(f'{path}: its validation people differ from the baseline\'s ({source}/{kind})')
            base, other = list(first.values()), [mine[s] for s in first]
            d, lo, hi = bootstrap(base, other, args.draws, args.seed)
            print(f'{path} - {args.runs[0]}: {source}/{kind} {d:+.3f} (95 % over people {lo:+.3f}..{hi:+.3f}, '
                  f'{len(base)} people)')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
