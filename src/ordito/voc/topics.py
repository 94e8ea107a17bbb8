"""Topics: what a text is about, as themes with readable labels in each language.

Two layers:

* a **taxonomy** of customer-service themes (delivery, refund, repair, billing, login and app...), each
  with its label and its cue words in Italian and English (ordito's own lists). A text gets every theme
  whose cues it contains, weighted by how many. Deterministic and incremental: a text's topics never
  depend on other texts.
* **discovery** (:func:`discover`): texts the taxonomy leaves without a theme are clustered (TF-IDF of
  words, k-means) and each cluster is labelled by its most distinctive words, in the texts' language, so
  themes nobody planned for still surface (docs/VOC.md).

A language is added by giving each theme a label and cues in it (``THEMES``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .features import normalise


@dataclass(frozen=True)
class Theme:
    topic_id: str
    labels: dict[str, str]
    cues: dict[str, tuple[str, ...]]  # a cue is a word prefix; several words = a phrase of prefixes


def _c(s: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in s.split(",") if x.strip())


THEMES: tuple[Theme, ...] = (
    Theme(
        "delivery",
        {"it": "Consegna", "en": "Delivery"},
        {
            "it": _c(
                "consegn, corrier, spedizion, spedit, pacco, tracciament, tracking, bartolini, sda, gls, brt, "
                "ritard, arrivat, arriva, giacenza"
            ),
            "en": _c(
                "deliver, courier, parcel, shipping, shipped, dispatch, tracking, dpd, evri, hermes, royal mail, "
                "delay, arrived, arrive, late"
            ),
        },
    ),
    Theme(
        "refund",
        {"it": "Rimborso e reso", "en": "Refund and return"},
        {
            "it": _c("rimbors, reso, resi, restituz, restituir, soldi indietro, storno"),
            "en": _c("refund, return, money back, reimburs, send it back, sent it back"),
        },
    ),
    Theme(
        "repair",
        {"it": "Guasto e riparazione", "en": "Fault and repair"},
        {
            "it": _c(
                "ripar, guast, rott, non funzion, difett, tecnic, non si accende, non scalda, non asciug, "
                "non lava, non gira, non carica, display, perde acqua, rumor, errore e, non aspira, si ferma, "
                "si blocca, smesso di, non funziona più, puzza, scintill, batteria, garanzia, non monta, non torna, "
                "bloccat, incastrat, ho un problema"
            ),
            "en": _c(
                "repair, fault, broken, not working, stopped working, defect, technician, engineer, "
                "won't, doesn't, does not, leak, noise, noisy, display, error code, lost suction, stops, "
                "stopped, keeps, smell, trips, sparks, stuck, battery, warranty, has a problem"
            ),
        },
    ),
    Theme(
        "billing",
        {"it": "Fatturazione e pagamenti", "en": "Billing and payments"},
        {
            "it": _c(
                "fattur, addebit, pagament, pagat, importo, carta di credito, bonifico, doppio addebito"
            ),
            "en": _c("bill, invoice, charge, charged, payment, paid, card, debit, overcharg"),
        },
    ),
    Theme(
        "login",
        {"it": "Accesso, account e app", "en": "Login, account and app"},
        {
            "it": _c("accesso, acceder, login, password, credenzial, account, app, registraz, profilo"),
            "en": _c("log in, login, logged, sign in, password, account, app, credential, profile"),
        },
    ),
    Theme(
        "address",
        {"it": "Cambio indirizzo e dati", "en": "Address and details change"},
        {
            "it": _c("indirizz, trasloc, cambio dati, aggiornare i dati, modulo"),
            "en": _c("address, moved house, moving house, update my details, form"),
        },
    ),
    Theme(
        "subscription",
        {"it": "Abbonamenti e garanzia estesa", "en": "Subscriptions and extended warranty"},
        {
            "it": _c("abbonament, piano filtri, garanzia estesa, disdett, disdir, rinnov, iscrizion"),
            "en": _c(
                "subscription, subscribe, filter plan, extended warranty, cancel my plan, renew, renewal"
            ),
        },
    ),
    Theme(
        "product_info",
        {"it": "Informazioni sul prodotto", "en": "Product information"},
        {
            "it": _c(
                "disponibil, modell, prezz, caratteristic, compatibil, capienz, dimension, va bene per, consum"
            ),
            "en": _c("in stock, availab, model, price, spec, compatib, capacity, size, suitable, energy"),
        },
    ),
    Theme(
        "order",
        {"it": "Ordini e acquisti", "en": "Orders and purchases"},
        {
            "it": _c("ordin, acquist, comprat, carrello, checkout, _order"),
            "en": _c("order, purchase, bought, basket, cart, checkout, _order"),
        },
    ),
    Theme(
        "service",
        {"it": "Servizio clienti e attese", "en": "Customer service and waiting"},
        {
            "it": _c(
                "attesa, aspett, richiam, operator, nessuno rispond, ripet, più volte, ancora, di nuovo, "
                "sollecit, trasferit, passat"
            ),
            "en": _c(
                "wait, waiting, hold, call back, callback, agent, nobody, no one, repeat, several times, "
                "again, chase, chasing, transferred, passed"
            ),
        },
    ),
    Theme(
        "store",
        {"it": "Negozio", "en": "Store"},
        {"it": _c("negozio, punto vendita, cassa, commess"), "en": _c("store, shop, till, staff")},
    ),
)

BY_ID = {t.topic_id: t for t in THEMES}
_SPLIT = re.compile(r"[^\w']+", re.UNICODE)


def _compile() -> dict[str, dict[str, list[tuple[str, tuple[str, ...]]]]]:
    """language -> first cue word -> [(topic, whole cue)]: a token looks up each of its prefixes."""
    out: dict[str, dict[str, list[tuple[str, tuple[str, ...]]]]] = {}
    for th in THEMES:
        for lang, cues in th.cues.items():
            for cue in cues:
                words = tuple(cue.split())
                out.setdefault(lang, {}).setdefault(words[0], []).append((th.topic_id, words))
    every: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for by_first in out.values():
        for first, items in by_first.items():
            every.setdefault(first, []).extend(items)
    out["*"] = every
    return out


_CUES = _compile()
_MAXLEN = max(len(first) for first in _CUES["*"])


def languages() -> tuple[str, ...]:
    return tuple(sorted(k for k in _CUES if k != "*"))


def label(topic_id: str, language: str) -> str:
    th = BY_ID.get(topic_id)
    if th is None:
        return topic_id
    return th.labels.get(language) or th.labels.get("en") or topic_id


def assign(text: str, language: str | None) -> list[tuple[str, float]]:
    """The taxonomy themes of a text, with weights summing to 1 (empty when none applies).

    A theme counts once per distinct cue found (a cue matches when each of its words starts a token, in
    order); unknown languages are matched against every language's cues.
    """
    index = _CUES.get(language or "*") or _CUES["*"]
    toks = [t for t in _SPLIT.split(normalise(text)) if t]
    found: set[tuple[str, tuple[str, ...]]] = set()
    n = len(toks)
    for i, tok in enumerate(toks):
        for k in range(1, min(len(tok), _MAXLEN) + 1):
            for topic_id, cue in index.get(tok[:k], ()):
                if len(cue) == 1 or (
                    i + len(cue) <= n and all(toks[i + j].startswith(cue[j]) for j in range(1, len(cue)))
                ):
                    found.add((topic_id, cue))
    hits: Counter[str] = Counter(topic_id for topic_id, _ in found)
    total = sum(hits.values())
    return (
        [(t, round(c / total, 4)) for t, c in sorted(hits.items(), key=lambda x: (-x[1], x[0]))]
        if total
        else []
    )


# --- discovery ------------------------------------------------------------------------------------

_STOP = {
    "it": set(
        str.split(
            "il lo la i gli le un uno una di a da in con su per tra fra e o ma se che non è sono ho ha hanno mi ti "
            "ci vi si del della dei delle al alla ai alle dal dalla nel nella sul sulla questo questa quello mio "
            "mia suo sua vostro vostra nostro come quando anche ancora già più molto poi grazie buongiorno salve "
            "saluti cordiali buonasera ciao sto stato stata essere avere fare può posso vorrei lei lo"
        )
    ),
    "en": set(
        str.split(
            "the a an of to in on for with at by from and or but if that this it is are was were be been have has "
            "had i you he she we they me my your our their not no do does did so as can could would will just "
            "thanks thank hello hi dear regards please still again there what when which about"
        )
    ),
}


@dataclass
class Cluster:
    topic_id: str
    language: str
    label: str
    terms: list[str]
    members: list[int]  # indexes into the texts given


def discover(
    texts: Sequence[str], language: str, *, k: int | None = None, seed: int = 0, top: int = 3
) -> list[Cluster]:
    """Cluster ``texts`` (one language) into themes labelled by their most distinctive words.

    TF-IDF over words (stop words and placeholders out), k-means with cosine similarity (``k`` defaults
    to about sqrt(n/20), 2..12), labels from each cluster's words with the highest share in the cluster
    relative to the corpus (class-based TF-IDF). Deterministic for a given ``seed``.
    """
    stop = _STOP.get(language, set())
    docs = [
        [w for w in _SPLIT.split(normalise(t)) if len(w) > 2 and w not in stop and not w.startswith("_")]
        for t in texts
    ]
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set(d))
    vocab = sorted(w for w, c in df.items() if c >= 2)
    if len(vocab) < 2 or len(texts) < 4:
        return []
    col = {w: j for j, w in enumerate(vocab)}
    n = len(docs)
    idf = np.log((1 + n) / (1 + np.array([df[w] for w in vocab]))) + 1
    x = np.zeros((n, len(vocab)), dtype=np.float32)
    for i, d in enumerate(docs):
        for w, c in Counter(d).items():
            j = col.get(w)
            if j is not None:
                x[i, j] = (1 + np.log(c)) * idf[j]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    keep = norms.ravel() > 0
    x[keep] /= norms[keep]
    kk = k or int(min(12, max(2, round(np.sqrt(n / 20)))))
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(keep)
    if len(rows) < kk:
        return []
    centres = x[rng.choice(rows, size=kk, replace=False)].copy()
    assign_ = np.zeros(n, dtype=int)
    for _ in range(30):
        sims = x @ centres.T
        new = sims.argmax(axis=1)
        if (new == assign_).all() and _ > 0:
            break
        assign_ = new
        for c in range(kk):
            m = x[(assign_ == c) & keep]
            if len(m):
                v = m.mean(axis=0)
                centres[c] = v / (np.linalg.norm(v) or 1.0)
    corpus_share = (x[keep] > 0).mean(axis=0) + 1e-9
    out = []
    for c in range(kk):
        members = [i for i in range(n) if keep[i] and assign_[i] == c]
        if not members:
            continue
        share = (x[members] > 0).mean(axis=0)
        score = share * np.log(share / corpus_share + 1e-9)
        terms = [vocab[j] for j in np.argsort(-score)[:top] if share[j] > 0]
        out.append(Cluster(f"auto:{language}:{'-'.join(terms)}", language, ", ".join(terms), terms, members))
    out.sort(key=lambda cl: -len(cl.members))
    return out
