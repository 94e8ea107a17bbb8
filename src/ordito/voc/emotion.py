"""Emotion, where it costs nothing: cue words (ordito's own lists, Italian and English) for the emotions
customer service meets most: anger, frustration, worry, disappointment, gratitude.

Not validated on labelled data (none with these emotions is available here): read it as "the text uses
words of X", never as a measured classifier. The dominant emotion is the one with most cues; ties and no
cue give None.
"""

from __future__ import annotations

from collections import Counter

from .features import normalise, words

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


def detect(text: str, language: str | None) -> str | None:
    """The dominant emotion of a text, or None."""
    toks = words(normalise(text or ""))
    joined = " " + " ".join(toks) + " "
    hits: Counter[str] = Counter()
    for emotion, by_lang in _CUES.items():
        for cue in by_lang.get(language or "", ()) or tuple(c for cs in by_lang.values() for c in cs):
            if " " in cue:
                if f" {cue}" in joined:
                    hits[emotion] += 1
            elif any(t.startswith(cue) for t in toks):
                hits[emotion] += 1
    if not hits:
        return None
    (top, n), *rest = hits.most_common(2) + [("", 0)]
    return top if n > rest[0][1] else None
