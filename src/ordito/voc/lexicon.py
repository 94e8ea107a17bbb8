"""The fallback sentiment model: small hand-written polarity lexicons (ordito's own, Italian and English).

Used only when no trained model is available (a fresh install without the labelled data, see docs/VOC.md)
or for a language no trained model covers. Its accuracy is measured and reported next to the trained
models'; results it produces carry ``model = lexicon-1``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

VERSION = "lexicon-1"

# Stems (prefix match on words of at least their length); ordito's own lists.
_POS = {
    "it": (
        "grazie gentil ottim perfett bravi bravo brava eccellent fantastic splendid soddisf felic content "
        "rapid veloc pronto puntual risolt cortes professional consigli top super meravigl bene benissim "
        "ben fatto piaciut adoro amo efficien chiar disponibil"
    ),
    "en": (
        "thank thanks great excellent perfect brilliant lovely wonderful fantastic amazing awesome happy "
        "pleased satisf quick fast prompt helpful friendly polite professional recommend love loved good "
        "best nice sorted resolved efficient smooth easy delight"
    ),
}
_NEG = {
    "it": (
        "vergogn schif pessim orribil terribil disastr inaccett inutil incompetent ridicol assurd scandal "
        "arrabbiat furios delus insoddisf lent ritard mai rott guast difett problem reclam rimbors "
        "stanc stuf spazient peggi male malissim sbagli errat truff ladr odio attesa aspett ancora "
        "nessun annull"
    ),
    "en": (
        "disgrace shame awful terrible horrible worst useless incompetent ridiculous absurd scandal "
        "angry furious disappoint unhappy dissatisf slow late delay never broken fault defect problem "
        "complain refund fed up sick waste rude wrong bad poor hate still nobody cancel unacceptable "
        "joke nightmare"
    ),
}
_NEGATORS = {
    "it": {"non", "nessuno", "niente", "mai", "senza", "né"},
    "en": {"not", "no", "never", "without", "n't"},
}
_WORD = re.compile(r"[^\W\d_]+(?:'t)?", re.UNICODE)


def _stems(s: str) -> tuple[str, ...]:
    return tuple(sorted(set(s.split()), key=len, reverse=True))


_LEX = {lang: (_stems(_POS[lang]), _stems(_NEG[lang])) for lang in _POS}


def languages() -> tuple[str, ...]:
    return tuple(_LEX)


def polarity(text: str, language: str) -> float:
    """Sum of word polarities (+1/-1, flipped after a negator within three words), over sqrt(words)."""
    pos, neg = _LEX.get(language, _LEX["en"])
    negators = _NEGATORS.get(language, _NEGATORS["en"])
    toks = _WORD.findall(text.lower())
    score = 0.0
    last_neg = -10
    for i, w in enumerate(toks):
        if w in negators or w.endswith("n't"):
            last_neg = i
            continue
        v = 1.0 if w.startswith(pos) else (-1.0 if w.startswith(neg) else 0.0)
        if v and i - last_neg <= 3:
            v = -v
        score += v
    score += 0.5 * text.count("!") * (1 if score > 0 else -1 if score < 0 else 0)
    return score / math.sqrt(max(len(toks), 1))


def predict_proba(texts: Sequence[str], langs: Sequence[str | None]) -> np.ndarray:
    """(n, 3) probabilities of negative, neutral, positive from the lexicon polarity."""
    out = np.zeros((len(texts), 3))
    for i, (t, lang) in enumerate(zip(texts, langs, strict=True)):
        s = 3.0 * polarity(t or "", lang or "en")
        z = np.array([-s, 0.6, s])
        e = np.exp(z - z.max())
        out[i] = e / e.sum()
    return out
