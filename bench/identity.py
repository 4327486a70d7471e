"""Benchmark of identification: known people recognised, unknown people rejected, templates protected.

Protocol (attune.identity.evaluation): enrol half of the people of --data (a faces-kind folder, default
../shared/data/faces) with one neutral photo each, identify their smiling photos, and reject every photo
of the other half as unknown.

- `london.*`: the raw embeddings (cosine), `protected.*`: the stored form, protected templates (the
  fraction of equal bits; mean over five deployments' projection seeds).
- Thresholds: with --eval-only, the shipped operating point (models/resources/identity_operating_point.json) on
  all of --data, fitting nothing. Without it, thresholds are chosen on half of the people (a person-wise
  split) and every number is measured on the other half only.
- `protected.unlinkability`: how often the same person's templates from two deployments (independent
  seeds) match at the operating threshold, over all of --data; `protected.unlinkability_chance` is the
  rate at which two different people's templates match within one deployment.
- attune aligns faces with dlib's 5-point predictor in the FaceMesh face rectangle. Baselines in the
  same run, each with its own thresholds chosen the same way: dlib's own alignment (HOG detector +
  5-point predictor; `baseline.dlib_alignment.*`) and the five points taken straight from FaceMesh
  landmarks (the previous alignment; `baseline.mesh_points_alignment.*`).
- `cost.embed_ms_median`: one descriptor (5-point predictor, alignment chip, ResNet), this machine,
  one face; wall time, and `embed_cpu_ms_median` the CPU time of the process.

    .venv/bin/python bench/identity.py [--data DIR] [--eval-only] [--write-operating-point]

--write-operating-point (never with --eval-only) chooses the thresholds on every person of --data and
writes the shipped operating point: run it on ../shared/data/faces only.
"""
from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'src'))

from attune.identity import evaluation as ev  # noqa: E402
from attune.identity.matcher import OPERATING_POINT_FILE, operating_point  # noqa: E402
from attune.identity.photos import FolderEmbeddings, embed_folder  # noqa: E402
from attune.identity.protection import DEFAULT_BITS, TemplateProtector  # noqa: E402

DEPLOYMENT_SEEDS = [bytes([k]) * 32 for k in range(1, 6)]
FIT_FOLDS = 200


def measure(neutral: dict, smiling: dict, people: list[str], score: ev.Scorer, threshold: float) -> dict:
    enrolled, _ = ev.alternate_halves(people)
    keep = set(people)
    scores = ev.protocol_scores(ev.split_protocol({p: i for p, i in neutral.items() if p in keep},
                                                  {p: i for p, i in smiling.items() if p in keep}, enrolled), score)
    far, frr = ev.far_frr(scores, threshold)
    return {'rank1': round(ev.rank1(scores), 4), 'far': round(far, 4), 'frr': round(frr, 4),
            'threshold': round(threshold, 4), 'enrolled': len(scores.truth), 'impostor_photos': len(scores.impostor)}


def fit(neutral: dict, smiling: dict, people: list[str], score: ev.Scorer) -> float:
    keep = set(people)
    return ev.choose_threshold(ev.random_folds({p: i for p, i in neutral.items() if p in keep},
                                               {p: i for p, i in smiling.items() if p in keep}, score, FIT_FOLDS))


def unlinkability(embeddings: np.ndarray, neutral: dict, smiling: dict, bits: int, threshold: float,
                  center: np.ndarray | None) -> dict:
    """Same person across two deployments (seed pairs), at the operating threshold."""
    rows = {p: [neutral[p], smiling[p]] for p in sorted(set(neutral) & set(smiling))}
    mated, mated_sims, within_impostor = [], [], []
    for a, b in itertools.pairwise(DEPLOYMENT_SEEDS):
        ta, tb = TemplateProtector(a, bits, center), TemplateProtector(b, bits, center)
        pa, pb = ta.protect(embeddings), tb.protect(embeddings)
        for n, s in rows.values():
            for i, j in ((n, n), (n, s), (s, n), (s, s)):  # the same photo too: the worst case
                sim = float(ta.similarity(pa[i], pb[j:j + 1])[0])
                mated.append(sim >= threshold)
                mated_sims.append(sim)
        people = list(rows)
        for k, person in enumerate(people):
            other = people[(k + 1) % len(people)]
            sim = float(ta.similarity(pa[rows[person][1]], pa[rows[other][0]:rows[other][0] + 1])[0])
            within_impostor.append(sim >= threshold)
    return {'unlinkability': round(float(np.mean(mated)), 4),
            'unlinkability_chance': round(float(np.mean(within_impostor)), 4),
            'cross_deployment_similarity_mean': round(float(np.mean(mated_sims)), 4)}


def protected_measure(embeddings, neutral, smiling, people, bits, threshold, center) -> dict:
    runs = [measure(neutral, smiling, people,
                    ev.protected_scorer(TemplateProtector(seed, bits, center).protect(embeddings), bits), threshold)
            for seed in DEPLOYMENT_SEEDS]
    out = {k: round(statistics.mean(r[k] for r in runs), 4) for k in ('rank1', 'far', 'frr')}
    out['rank1_min'] = min(r['rank1'] for r in runs)
    out['threshold'] = round(threshold, 4)
    out['bits'] = bits
    return out


def data_name(path: Path) -> str:
    """--data as written in the operating point: relative to the checkout when it is ../shared/..."""
    for inside, parent in ((path.absolute(), REPO.parent), (path.resolve(), REPO.parent.resolve())):
        if inside.is_relative_to(parent):  # ../shared may be a link (worktrees)
            return str(Path('..') / inside.relative_to(parent))
    return str(path)


def save_cache(path: Path, folder: FolderEmbeddings) -> None:
    np.savez(path, mesh=np.stack(folder.mesh), dlib=np.stack(folder.dlib), mesh_points=np.stack(folder.mesh_points),
             embed_ms=folder.embed_ms,
             embed_cpu_ms=folder.embed_cpu_ms, neutral=json.dumps(folder.neutral), smiling=json.dumps(folder.smiling))


def load_cache(path: Path) -> FolderEmbeddings:
    z = np.load(path)
    return FolderEmbeddings(json.loads(str(z['neutral'])), json.loads(str(z['smiling'])), list(z['mesh']),
                            list(z['dlib']), list(z['mesh_points']), list(z['embed_ms']), list(z['embed_cpu_ms']))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', type=Path, default=REPO.parent / 'shared' / 'data' / 'faces')
    ap.add_argument('--eval-only', action='store_true', help='shipped operating point on all of --data')
    ap.add_argument('--write-operating-point', action='store_true',
                    help='choose thresholds on all of --data and write the shipped operating point')
    ap.add_argument('--cache', type=Path, help='keep the embeddings of --data in this .npz (not with --eval-only)')
    ns = ap.parse_args(argv)
    if ns.eval_only and (ns.write_operating_point or ns.cache):
        ap.error('--eval-only fits and keeps nothing; it cannot write an operating point or a cache')

    folder = load_cache(ns.cache) if ns.cache and ns.cache.is_file() else embed_folder(ns.data)
    if ns.cache and not ns.cache.is_file():
        save_cache(ns.cache, folder)
    mesh, dlib, mesh_points = np.stack(folder.mesh), np.stack(folder.dlib), np.stack(folder.mesh_points)
    people = sorted(set(folder.neutral) & set(folder.smiling))
    n, s = folder.neutral, folder.smiling
    bits = operating_point()['bits'] if ns.eval_only else DEFAULT_BITS

    if ns.write_operating_point:
        center = None  # uncentred: see attune.identity.protection
        protected_all = ev.protected_scorer(TemplateProtector(DEPLOYMENT_SEEDS[0], bits, center).protect(mesh), bits)
        point = {'threshold': round(fit(n, s, people, protected_all), 4), 'bits': bits,
                 'cosine_threshold': round(fit(n, s, people, ev.cosine_scorer(mesh)), 4),
                 'rule': f'min FRR + {ev.FALSE_ACCEPT_COST:g} x FAR over {FIT_FOLDS} random enrol/impostor halves',
                 'data': f'{data_name(ns.data)} ({len(people)} people)',
                 'command': 'bench/identity.py --write-operating-point',
                 'written': datetime.now(timezone.utc).isoformat(timespec='seconds')}
        OPERATING_POINT_FILE.write_text(json.dumps(point, indent=1) + '\n', encoding='utf-8')
        print(f'wrote {OPERATING_POINT_FILE}', file=sys.stderr)

    if ns.eval_only:
        point = operating_point()
        test, split = people, 'all of --data, shipped operating point'
        cos_t, prot_t = point['cosine_threshold'], point['threshold']
        dlib_t = points_t = cos_t
        center = np.asarray(point['center'], np.float32) if 'center' in point else None
    else:
        fit_people, test = ev.alternate_halves(people)
        split = f'thresholds chosen on {len(fit_people)} people, measured on the other {len(test)}'
        center = None
        protected_fit = ev.protected_scorer(TemplateProtector(DEPLOYMENT_SEEDS[0], bits, center).protect(mesh), bits)
        cos_t = fit(n, s, fit_people, ev.cosine_scorer(mesh))
        prot_t = fit(n, s, fit_people, protected_fit)
        dlib_t = fit(n, s, fit_people, ev.cosine_scorer(dlib))
        points_t = fit(n, s, fit_people, ev.cosine_scorer(mesh_points))

    london = measure(n, s, test, ev.cosine_scorer(mesh), cos_t)
    protected = protected_measure(mesh, n, s, test, bits, prot_t, center)
    protected.update(unlinkability(mesh, n, s, bits, prot_t, center))
    baseline = {'dlib_alignment': measure(n, s, test, ev.cosine_scorer(dlib), dlib_t),
                'mesh_points_alignment': measure(n, s, test, ev.cosine_scorer(mesh_points), points_t)}
    result = {'data': str(ns.data), 'eval_only': ns.eval_only, 'split': split, 'people': len(people),
              'photos_skipped': len(folder.skipped),
              'london': london, 'protected': protected, 'baseline': baseline,
              'cost': {'embed_ms_median': round(statistics.median(folder.embed_ms), 2),
                       'embed_cpu_ms_median': round(statistics.median(folder.embed_cpu_ms), 2)}}
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
