"""Emotion, where it costs nothing: cue words (ordito's own lists, Italian and English) for the emotions
customer service meets most: anger, frustration, worry, disappointment, gratitude.

Not validated on labelled data (none with these emotions is available here): read it as "the text uses
words of X", never as a measured classifier. The dominant emotion is the one with most cues; ties and no
cue give None.
"""

from __future__ import annotations

from collections import Counter

from .features import normalise
from .features import words as words_of

_CUES: dict[str, dict[str, tuple[str, ...]]] = {
    "anger": {
        "it": (
            "vergogn",
            "furios",
            "arrabbiat",
            "schifo",
            "inaccettabil",
            "ladri",
            "truff",
            "assurd",
            "scandal",
        ),
        "en": (
            "disgrace",
            "furious",
            "angry",
            "outrag",
            "unacceptable",
            "scam",
            "ridiculous",
            "disgust",
            "livid",
        ),
    },
    "frustration": {
        "it": ("ancora", "ennesim", "di nuovo", "più volte", "spazient", "stufo", "stufa", "ripet", "sempre"),
        "en": ("still", "again", "several times", "fed up", "repeat", "yet another", "impatient", "keep"),
    },
    "worry": {
        "it": ("preoccup", "paura", "urgent", "ansia", "timore", "subito"),
        "en": ("worried", "worry", "concern", "urgent", "afraid", "anxious", "asap"),
    },
    "disappointment": {
        "it": ("delus", "peccato", "mi aspettavo", "peggior", "insoddisf"),
        "en": ("disappoint", "let down", "expected better", "shame", "unhappy", "dissatisf"),
    },
    "gratitude": {
        "it": ("grazie mille", "gentilissim", "complimenti", "bravissim", "ottimo", "perfetto", "eccellent"),
        "en": (
            "thanks a lot",
            "thank you so much",
            "lovely",
            "brilliant",
            "excellent",
            "great service",
            "perfect",
        ),
    },
}


def _index() -> dict[str, tuple[dict[str, list[str]], list[tuple[str, str]]]]:
    """language -> (word prefix -> emotions, [(phrase, emotion)]); "*" holds every language's cues."""
    out: dict[str, tuple[dict[str, list[str]], list[tuple[str, str]]]] = {}
    for emotion, by_lang in _CUES.items():
        for lang, cues in by_lang.items():
            for key in (lang, "*"):
                words, phrases = out.setdefault(key, ({}, []))
                for cue in cues:
                    if " " in cue:
                        phrases.append((cue, emotion))
                    else:
                        words.setdefault(cue, []).append(emotion)
    return out


_INDEX = _index()
_MAXLEN = max(len(c) for c in _INDEX["*"][0])


def detect(text: str, language: str | None) -> str | None:
    """The dominant emotion of a text, or None (each cue counts once)."""
    words, phrases = _INDEX.get(language or "*") or _INDEX["*"]
    toks = set(words_of(normalise((text or "")[:2000])))
    found: set[tuple[str, str]] = set()
    for t in toks:
        for k in range(1, min(len(t), _MAXLEN) + 1):
            for emotion in words.get(t[:k], ()):
                found.add((t[:k], emotion))
    if phrases:
        joined = " " + " ".join(words_of(normalise((text or "")[:2000]))) + " "
        for cue, emotion in phrases:
            if f" {cue}" in joined:
                found.add((cue, emotion))
    hits: Counter[str] = Counter(emotion for _, emotion in found)
    if not hits:
        return None
    (top, n), *rest = hits.most_common(2) + [("", 0)]
    return top if n > rest[0][1] else None
