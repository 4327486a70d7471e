"""Protected face templates: a keyed, cancelable transform of the face embedding.

What a database stores is never the embedding itself but `sign(W @ (e - c))`: the signs of `bits`
random projections of the embedding, centred on the population mean `c` of dlib's descriptors (fitted
on ../shared/data, shipped with the operating point), packed into bytes. Centring matters: dlib's
descriptors all lie in a narrow cone, so uncentred, every pair of faces is a small angle apart and each
bit says little; centred, strangers are about 90 degrees apart and one person's photos much closer.
W (bits x 128, Gaussian) is drawn from a per-deployment secret seed that lives inside the encrypted
database (see store.py), with the centre and the bit count.

Why this transform:
- Matching still works: for two centred embeddings at angle t, each projection's sign differs with
  probability t / pi (random-hyperplane hashing), so the fraction of equal bits estimates the angle and
  identification keeps the embedding's ranking (bench/identity.py measures the difference).
- Cancelable: a new seed gives unrelated templates; re-enrolling under a new seed revokes the old ones.
- Unlinkable: two deployments draw independent W; the same face's templates agree on about half their
  bits, as two strangers' do (the bench measures this match rate).
- Lossy: magnitude is discarded and each coordinate is one bit, so a template maps to a cone of
  embeddings, not to one. Someone holding both the database and its key can still estimate the
  embedding's direction (roughly W.T @ bits), so the key must be guarded like the templates themselves;
  encryption at rest keeps a stolen file without the key useless.
"""
from __future__ import annotations

import numpy as np

EMBEDDING_SIZE = 128
DEFAULT_BITS = 512
SEED_BYTES = 32


class TemplateProtector:
    """Turns embeddings into protected templates (packed bits) and compares templates."""

    def __init__(self, seed: bytes, bits: int = DEFAULT_BITS, center: np.ndarray | None = None,
                 embedding_size: int = EMBEDDING_SIZE) -> None:
        if len(seed) < 16:
            raise ValueError('the projection seed must be at least 16 bytes')
        if bits <= 0 or bits % 8:
            raise ValueError(f'bits must be a positive multiple of 8, not {bits}')
        rng = np.random.Generator(np.random.PCG64(np.frombuffer(seed, dtype=np.uint32)))
        self._projection = rng.standard_normal((bits, embedding_size)).astype(np.float32)
        self.bits = bits
        self.embedding_size = embedding_size
        self.center = np.zeros(embedding_size, np.float32) if center is None else np.asarray(center, np.float32)
        if self.center.shape != (embedding_size,):
            raise ValueError(f'the centre must have {embedding_size} values')

    def protect(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, 128) or (128,) embeddings -> (n, bits / 8) or (bits / 8,) uint8 templates."""
        e = np.asarray(embeddings, dtype=np.float32)
        single = e.ndim == 1
        e = np.atleast_2d(e)
        if e.shape[1] != self.embedding_size:
            raise ValueError(f'embeddings must have {self.embedding_size} values, not {e.shape[1]}')
        if not np.all(np.isfinite(e)):
            raise ValueError('embedding has non-finite values')
        packed = np.packbits((e - self.center) @ self._projection.T > 0, axis=1)
        return packed[0] if single else packed

    def similarity(self, probe: np.ndarray, templates: np.ndarray) -> np.ndarray:
        """Fraction of equal bits between one template and each of (n, bits / 8) templates, in [0, 1]
        (1: same direction; 0.5: unrelated)."""
        differ = np.unpackbits(np.bitwise_xor(np.atleast_2d(templates), probe), axis=1).sum(axis=1)
        return 1.0 - differ / self.bits


def cosine_similarity(probe: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """The unprotected baseline: cosine between one embedding and each row of `gallery`."""
    g = np.atleast_2d(np.asarray(gallery, dtype=np.float64))
    p = np.asarray(probe, dtype=np.float64)
    return g @ p / (np.linalg.norm(g, axis=1) * np.linalg.norm(p) + 1e-12)
