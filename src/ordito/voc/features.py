"""Text features for the fast models: normalisation, character and word n-grams, TF-IDF vectors.

Pure Python and NumPy/SciPy, deterministic (no hashing with a per-process seed), so a model trained on one
machine scores the same on another. A vocabulary maps each kept n-gram to a column; unseen n-grams are
ignored at scoring time.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse

MAX_CHARS = 2000  # longer texts are read up to here (the opening says what a message is about)
_URL = re.compile(r"https?://\S+|www\.\S+|\bhttp\b")
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_HANDLE = re.compile(r"@\w+")
_ORDER = re.compile(r"\b[a-z]{2}-\d{4}-\d+\b")  # order numbers such as it-2025-0012345
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_REPEAT = re.compile(r"(\w)\1{2,}")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|[!?]+|[:;]-?[()dp]|[^\w\s]", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, placeholders for links, addresses, handles, numbers; long letter runs cut to two."""
    t = text.lower()
    t = _URL.sub(" _url ", t)
    t = _EMAIL.sub(" _email ", t)
    t = _HANDLE.sub(" _user ", t)
    t = _ORDER.sub(" _order ", t)
    t = _DIGITS.sub("0", t)
    t = _REPEAT.sub(r"\1\1", t)
    return t.replace("#", " ")


def words(norm: str) -> list[str]:
    """Word tokens of a normalised text (punctuation runs and emoticons are tokens too)."""
    return _WORD.findall(norm)


def char_ngrams(norm: str, nmin: int = 2, nmax: int = 5) -> list[str]:
    """Character n-grams inside each whitespace token padded with a space on both sides."""
    out: list[str] = []
    for tok in norm.split():
        w = f" {tok} "
        n_w = len(w)
        for n in range(nmin, min(nmax, n_w) + 1):
            out.extend(w[i : i + n] for i in range(n_w - n + 1))
    return out


def word_ngrams(toks: Sequence[str], nmax: int = 2) -> list[str]:
    out = ["w:" + t for t in toks]
    for n in range(2, nmax + 1):
        out.extend("w:" + " ".join(toks[i : i + n]) for i in range(len(toks) - n + 1))
    return out


def analyse(text: str, *, char: tuple[int, int] = (2, 5), word_n: int = 2) -> list[str]:
    """Every feature string of a text: character n-grams and word n-grams (prefixed ``w:``)."""
    norm = normalise(text[:MAX_CHARS])
    return char_ngrams(norm, *char) + word_ngrams(words(norm), word_n)


class Vectoriser:
    """TF-IDF over :func:`analyse` features: sublinear term frequency, smoothed idf, unit length rows.

    Args:
        vocab: feature string -> column.
        idf: one weight per column.
        char: character n-gram lengths (inclusive).
        word_n: longest word n-gram.
    """

    def __init__(self, vocab: dict[str, int], idf: np.ndarray, char: tuple[int, int], word_n: int) -> None:
        self.vocab = vocab
        self.idf = idf.astype(np.float32)
        self.char = char
        self.word_n = word_n

    @classmethod
    def fit(
        cls, texts: Iterable[str], *, char: tuple[int, int] = (2, 5), word_n: int = 2, min_df: int = 2
    ) -> Vectoriser:
        df: Counter[str] = Counter()
        n_docs = 0
        for t in texts:
            df.update(set(analyse(t, char=char, word_n=word_n)))
            n_docs += 1
        kept = sorted(f for f, c in df.items() if c >= min_df)
        vocab = {f: i for i, f in enumerate(kept)}
        idf = np.array([math.log((1 + n_docs) / (1 + df[f])) + 1.0 for f in kept], dtype=np.float32)
        return cls(vocab, idf, char, word_n)

    @property
    def dim(self) -> int:
        return len(self.vocab)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        vocab = self.vocab
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        for t in texts:
            counts = Counter(
                j for j in map(vocab.get, analyse(t, char=self.char, word_n=self.word_n)) if j is not None
            )
            indices.extend(counts.keys())
            data.extend(1.0 + math.log(c) for c in counts.values())
            indptr.append(len(indices))
        m = sparse.csr_matrix(
            (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32), np.asarray(indptr)),
            shape=(len(texts), self.dim),
        )
        m = m.multiply(self.idf).tocsr()
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.diags(1.0 / norms).dot(m).tocsr().astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        """Arrays to save in a model file (see :meth:`from_state`)."""
        feats = sorted(self.vocab, key=self.vocab.__getitem__)
        return {
            "vocab": np.array("\x1f".join(feats)),
            "idf": self.idf,
            "char": np.array(self.char, dtype=np.int32),
            "word_n": np.array(self.word_n, dtype=np.int32),
        }

    @classmethod
    def from_state(cls, st: dict[str, np.ndarray], prefix: str = "") -> Vectoriser:
        raw = str(st[prefix + "vocab"])
        feats = raw.split("\x1f") if raw else []
        char = tuple(int(x) for x in st[prefix + "char"])
        return cls(
            {f: i for i, f in enumerate(feats)},
            np.asarray(st[prefix + "idf"], dtype=np.float32),
            (char[0], char[1]),
            int(st[prefix + "word_n"]),
        )
