"""Protected face templates: a keyed, cancelable transform of the face embedding.

What a database stores is never the embedding itself but `sign(W @ e)`: the signs of `bits` random
projections of the embedding, packed into bytes. The fraction of equal bits then estimates the angle
between two embeddings, a monotonic function of the cosine the unprotected matcher uses, so with enough
bits the protected ranking and errors converge on the unprotected ones. dlib's descriptors lie in a
narrow cone (strangers' templates agree on ~87% of their bits, one person's on ~91%), so that margin
needs many bits: at 512 the estimate's noise (std ~0.013) is a third of it; the default 2048 (256 bytes
a template) halves that. (Earlier releases centred the embeddings on a population mean fitted on 30
people first; that spreads the cone, but it is a learned change of geometry that did not carry over to
unseen people: one fold rejected a person and the other accepted strangers, at any bit count; see
docs/identity.md, Measured. `center` remains for databases made then.)

W (bits x 128, Gaussian) is drawn from a per-deployment secret seed that lives inside the encrypted
database (see store.py), with the bit count and the centre (zero for new databases).

Why this transform:
- Matching still works: for two embeddings at angle t, each projection's sign differs with
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

from typing import Any

import numpy as np
import numpy.typing as npt

EMBEDDING_SIZE = 128
DEFAULT_BITS = 2048
SEED_BYTES = 32


class TemplateProtector:
    """Turns embeddings into protected templates (packed bits) and compares templates."""

    def __init__(self, seed: bytes, bits: int = DEFAULT_BITS, center: npt.NDArray[Any] | None = None,
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

    def protect(self, embeddings: npt.NDArray[Any]) -> npt.NDArray[Any]:
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

    def similarity(self, probe: npt.NDArray[Any], templates: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Fraction of equal bits between one template and each of (n, bits / 8) templates, in [0, 1]
        (1: same direction; 0.5: unrelated)."""
        differ = np.unpackbits(np.bitwise_xor(np.atleast_2d(templates), probe), axis=1).sum(axis=1)
        out: npt.NDArray[Any] = 1.0 - differ / self.bits
        return out


def cosine_similarity(probe: npt.NDArray[Any], gallery: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The unprotected baseline: cosine between one embedding and each row of `gallery`."""
    g = np.atleast_2d(np.asarray(gallery, dtype=np.float64))
    p = np.asarray(probe, dtype=np.float64)
    out: npt.NDArray[Any] = g @ p / (np.linalg.norm(g, axis=1) * np.linalg.norm(p) + 1e-12)
    return out
