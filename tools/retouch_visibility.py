"""How visible is each generated retouching operation and strength? Colour difference to the unedited photo.

For every --step-th photo of a faces-kind folder, each operation of attune.integrity.retouch_ops at each
strength is applied (before any delivery chain) and compared pixel by pixel with the photo it came
from, inside the FaceMesh face oval: CIE76 colour difference (Delta E in CIELAB; about 2.3 is a
just-noticeable difference side by side). `mean_delta_e`: over the face; `p99_delta_e`: its 99th
percentile; `face_above_jnd`: the fraction of face pixels changed by more than 2.3; `visible`: the
fraction of copies whose changed pixels cover at least attune.integrity.retouch_visibility.VISIBLE_FRACTION
of the face; `photos`: how many photos the operation applies to at that strength (blemish removal
needs genuine blemishes). An edit whose changes stay under the JND is invisible even next to the
original, so a detector that never sees the original cannot be expected to find it. Prints one JSON object.

    .venv/bin/python tools/retouch_visibility.py [--data ../shared/data/faces] [--step 10] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'src'))

from attune.integrity import face_regions as fr  # noqa: E402
from attune.integrity import retouch_data as rd  # noqa: E402
from attune.integrity.retouch_ops import OPERATIONS, STRENGTHS, NothingToRetouchError, retouch  # noqa: E402
from attune.integrity.retouch_visibility import JND, delta_e, is_visible  # noqa: E402


def measure(photos: list[rd.Photo], seed: int) -> dict:
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    rows: dict[tuple[str, int], list[tuple[float, float, float, bool]]] = {}
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=1)) as analyzer:
        for photo in photos:
            rgb = rd.read_photo(photo.path)
            px = rd.landmarks_px(analyzer, rgb)
            if px is None:
                continue
            face = fr.polygon_mask(rgb.shape, px[list(fr.FACE_OVAL)])
            rng = np.random.default_rng([seed, len(rows)])
            for operation in OPERATIONS:
                for strength in STRENGTHS:
                    try:
                        de = delta_e(rgb, retouch(rgb, px, operation, strength, rng))[face]
                    except NothingToRetouchError:
                        continue
                    above = float(np.mean(de > JND))
                    rows.setdefault((operation, strength), []).append(
                        (float(de.mean()), float(np.percentile(de, 99)), above, bool(is_visible(above))))
    out: dict = {}
    for (operation, strength), values in rows.items():
        mean = np.mean(values, axis=0)
        out.setdefault(operation, {})[str(strength)] = {
            'photos': len(values), 'mean_delta_e': round(float(mean[0]), 2),
            'p99_delta_e': round(float(mean[1]), 2), 'face_above_jnd': round(float(mean[2]), 4),
            'visible': round(float(mean[3]), 3)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', type=Path, default=REPO.parent / 'shared' / 'data' / 'faces')
    ap.add_argument('--step', type=int, default=10, help='every N-th photo (default: %(default)s)')
    ap.add_argument('--seed', type=int, default=0)
    ns = ap.parse_args()
    import cv2

    cv2.setNumThreads(1)
    photos = rd.faces_photos(ns.data)[::ns.step]
    print(json.dumps({'photos': len(photos), 'jnd': JND, 'operations': measure(photos, ns.seed)}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
