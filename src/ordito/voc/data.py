"""The labelled sentiment data sets ordito trains and is measured on, read from the real-data folder.

The data are never copied into the package or the repository (their licences: docs/VOC.md). Each data
set has a language, labels 0 negative, 1 neutral, 2 positive (binary sets: 0 and 2 only), and
``train``/``dev``/``test`` splits:

* ``it-umsab-tweets``: Italian tweets, the set's own train / val (dev) / test.
* ``en-tweeteval``: English tweets. The set ships no training text, so its ``val`` split is divided by a
  fixed hash of the text: 80% train, 20% dev. Its ``test`` split is the test.
* ``en-uci-sentences``: English review sentences, binary, no split of its own: a sentence is in the test
  split when ``int(md5(sentence.strip())) % 10 < 3`` (30%, fixed, order-independent), else in train.

To add a language, add a folder with ``{train,val,test}_{text,labels}.txt`` (one text per line, labels
0/1/2) and an entry in ``DATASETS`` (or pass ``extra`` to :func:`load`), then ``ordito voc train``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError


@dataclass
class Split:
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, text: str, label: int) -> None:
        self.texts.append(text)
        self.labels.append(label)


@dataclass
class Dataset:
    name: str
    language: str
    binary: bool
    train: Split
    dev: Split
    test: Split
    sha256: str


@dataclass(frozen=True)
class Spec:
    name: str
    language: str
    folder: str
    layout: str  # splits | val_only | uci


DATASETS: tuple[Spec, ...] = (
    Spec("it-umsab-tweets", "it", "sentiment/it-umsab-tweets", "splits"),
    Spec("en-tweeteval", "en", "sentiment/en-tweeteval", "val_only"),
    Spec("en-uci-sentences", "en", "sentiment/en-uci-sentences", "uci"),
)


def real_data_root(path: str | os.PathLike[str] | None = None) -> Path:
    """The real-data folder: the argument, else ``ORDITO_REAL_DATA``, else ``../shared/data``."""
    return Path(path or os.environ.get("ORDITO_REAL_DATA", "../shared/data")).expanduser()


def _lines(p: Path) -> list[str]:
    return p.read_text(encoding="utf-8").splitlines()


def _bucket(text: str) -> int:
    return int(hashlib.md5(text.encode("utf-8")).hexdigest(), 16) % 10


def _read_pair(folder: Path, split: str) -> tuple[list[str], list[int]]:
    texts = _lines(folder / f"{split}_text.txt")
    labels = [int(x) for x in _lines(folder / f"{split}_labels.txt") if x.strip()]
    if len(texts) != len(labels):
        raise ConfigError(f"{folder}: {split} has {len(texts)} texts and {len(labels)} labels")
    return texts, labels


def load_one(spec: Spec, root: Path) -> Dataset:
    folder = root / spec.folder
    if not folder.is_dir():
        raise ConfigError(f"data set {spec.name} not found at {folder}")
    h = hashlib.sha256()
    train, dev, test = Split(), Split(), Split()
    if spec.layout == "splits":
        for name, split in (("train", train), ("val", dev), ("test", test)):
            for t, y in zip(*_read_pair(folder, name), strict=True):
                split.add(t, y)
    elif spec.layout == "val_only":
        for t, y in zip(*_read_pair(folder, "val"), strict=True):
            (dev if _bucket(t) < 2 else train).add(t, y)
        for t, y in zip(*_read_pair(folder, "test"), strict=True):
            test.add(t, y)
    elif spec.layout == "uci":
        for f in sorted(folder.glob("*_labelled.txt")):
            for line in _lines(f):
                if not line.strip():
                    continue
                text, label = line.rsplit("\t", 1)
                text = text.strip()
                (test if _bucket(text) < 3 else train).add(text, 2 * int(label))
    else:
        raise ConfigError(f"unknown layout {spec.layout!r}")
    for s in (train, dev, test):
        h.update("\n".join(s.texts).encode())
        h.update(bytes(s.labels))
    return Dataset(spec.name, spec.language, spec.layout == "uci", train, dev, test, h.hexdigest())


def load(
    root: str | os.PathLike[str] | None = None, *, extra: Sequence[Spec] = (), only: Sequence[str] = ()
) -> list[Dataset]:
    """Every data set found under ``root``; raises ConfigError if none is."""
    base = real_data_root(root)
    out = []
    for spec in (*DATASETS, *extra):
        if only and spec.name not in only:
            continue
        if (base / spec.folder).is_dir():
            out.append(load_one(spec, base))
    if not out:
        raise ConfigError(
            f"No labelled sentiment data under {base} (set ORDITO_REAL_DATA to the folder holding "
            "sentiment/it-umsab-tweets etc.)"
        )
    return out
