"""Assemble texts from :mod:`ordito.demo.phrases` and say their true sentiment.

Tone is 0 (positive), 1 (neutral), 2 (negative) or 3 (very negative). The label of a text follows its
tone (very negative texts are labelled ``negative``, with a lower score).
"""

from __future__ import annotations

from collections.abc import Sequence
from random import Random
from typing import TypeVar

from . import phrases as ph

T = TypeVar("T")
POSITIVE, NEUTRAL, NEGATIVE, VERY_NEGATIVE = 0, 1, 2, 3
LABEL = ("positive", "neutral", "negative", "negative")
_SCORE = ((0.35, 0.55), (-0.15, 0.3), (-0.65, 0.4), (-1.0, 0.35))


class Slots(dict[str, str]):
    """Slot values of one episode; a slot a template asks for but nobody set reads as empty."""

    def __missing__(self, key: str) -> str:
        return ""


def pick(rng: Random, seq: Sequence[T]) -> T:
    return seq[int(rng.random() * len(seq))]


def sentiment(rng: Random, tone: int) -> tuple[str, float]:
    lo, width = _SCORE[tone]
    return LABEL[tone], round(lo + rng.random() * width, 2)


def tone_for(bad: int) -> int:
    """Tone of a customer after ``bad`` frictions in the current episode."""
    return NEUTRAL if bad == 0 else NEGATIVE if bad < 3 else VERY_NEGATIVE


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def fill(rng: Random, table: dict[str, tuple[str, ...]], lang: str, slots: Slots) -> str:
    return str(pick(rng, table[lang])).format_map(slots)


def core(rng: Random, lang: str, intent: str, slots: Slots) -> str:
    return fill(rng, ph.CORE[intent], lang, slots)


def customer_statement(
    rng: Random, lang: str, intent: str, slots: Slots, tone: int, greet: bool = True
) -> str:
    g = pick(rng, ph.GREETING[lang]) if greet else ""
    c = core(rng, lang, intent, slots)
    body = f"{g} {c}" if g else _cap(c)
    return _join(body, fill(rng, ph.TONE_ADD[tone], lang, slots))


def restate(rng: Random, lang: str, kind: str, slots: Slots) -> str:
    return fill(rng, ph.RESTATE[kind], lang, slots)


def followup(rng: Random, lang: str, tone: int, slots: Slots) -> str:
    return _join(fill(rng, ph.FOLLOWUP, lang, slots), fill(rng, ph.TONE_ADD[tone], lang, slots))


def thanks(rng: Random, lang: str, tone: int, slots: Slots) -> str:
    return fill(rng, ph.THANKS[tone], lang, slots)


def agent_greet(rng: Random, lang: str, slots: Slots) -> str:
    return fill(rng, ph.AGENT_GREET, lang, slots)


def agent_ask(rng: Random, lang: str, kind: str, slots: Slots) -> str:
    return fill(rng, ph.AGENT_ASK[kind], lang, slots)


def agent_answer(rng: Random, lang: str, intent: str, slots: Slots, solved: bool, sorry: bool) -> str:
    s = fill(rng, ph.AGENT_SORRY, lang, slots) if sorry else ""
    if solved:
        body = fill(rng, ph.AGENT_SOLVE[intent], lang, slots)
    else:  # promising a case number only when there is one
        options = tuple(x for x in ph.AGENT_DEFER[lang] if slots["ticket"] or "{ticket}" not in x)
        body = str(pick(rng, options)).format_map(slots)
    return _join(s, body)


def agent_transfer(rng: Random, lang: str, slots: Slots) -> str:
    return fill(rng, ph.AGENT_TRANSFER, lang, slots)


def agent_bye(rng: Random, lang: str, slots: Slots) -> str:
    return fill(rng, ph.AGENT_BYE, lang, slots)


def bot(rng: Random, lang: str, kind: str) -> str:
    return str(pick(rng, ph.BOT[kind][lang]))


def system(rng: Random, lang: str, kind: str) -> str:
    return str(pick(rng, ph.SYSTEM[kind][lang]))


def dept_name(lang: str, dept: str) -> str:
    return ph.DEPT_NAME[lang][dept]


def call_note(
    rng: Random,
    lang: str,
    intent: str,
    slots: Slots,
    tone: int,
    disposition: str,
    given: list[str],
    restated: list[str],
) -> str:
    """An agent's note on a call leg: why, what the customer gave, the mood, how it ended."""
    parts = [fill(rng, ph.NOTE_OPEN, lang, Slots(intent=ph.INTENT_PHRASE[lang][intent]))]
    parts.extend(given)
    for v in restated:
        parts.append(fill(rng, ph.NOTE_RESTATED, lang, Slots(value=v)))
    parts.append(fill(rng, ph.NOTE_MOOD[tone], lang, slots))
    if disposition in ph.NOTE_END:
        parts.append(fill(rng, ph.NOTE_END[disposition], lang, slots))
    return _join(*parts)


def ticket_subject(rng: Random, lang: str, intent: str, slots: Slots) -> str:
    return fill(rng, ph.TICKET_SUBJECT[intent], lang, slots)


def ticket_work(rng: Random, lang: str, intent: str = "") -> str:
    own = ph.TICKET_WORK_BY_INTENT.get(intent)
    if own is not None and rng.random() < 0.5:
        return str(pick(rng, own[lang]))
    return str(pick(rng, ph.TICKET_WORK[lang]))


def ticket_solved(rng: Random, lang: str) -> str:
    return str(pick(rng, ph.TICKET_SOLVED[lang]))


def ticket_reopened(rng: Random, lang: str) -> str:
    return str(pick(rng, ph.TICKET_REOPENED[lang]))


def ticket_closed(rng: Random, lang: str) -> str:
    return str(pick(rng, ph.TICKET_CLOSED[lang]))


def ticket_from(rng: Random, lang: str, channel: str, text: str) -> str:
    return fill(
        rng, ph.TICKET_FROM, lang, Slots(channel=ph.ORIGIN_NAME[lang].get(channel, channel), text=text)
    )


def email_body(rng: Random, lang: str, lines: list[str], slots: Slots) -> str:
    return "\n\n".join([*lines, fill(rng, ph.EMAIL_SIGN, lang, slots)])


def email_reply(rng: Random, lang: str, answer: str, slots: Slots) -> str:
    return "\n\n".join(
        [fill(rng, ph.EMAIL_AGENT_OPEN, lang, slots), answer, fill(rng, ph.EMAIL_AGENT_SIGN, lang, slots)]
    )


def friction_words(rng: Random, lang: str, kinds: list[str]) -> str:
    if not kinds:
        return ""
    return str(pick(rng, ph.FRICTION_WORDS[pick(rng, kinds)][lang]))


def survey_comment(rng: Random, lang: str, tone: int, frictions: list[str]) -> str:
    base = str(pick(rng, ph.SURVEY_COMMENT[tone][lang]))
    if tone >= NEGATIVE and frictions and rng.random() < 0.7:
        return f"{base} {_cap(friction_words(rng, lang, frictions))}."
    return base


def social_post(rng: Random, lang: str, tone: int, slots: Slots, frictions: list[str]) -> str:
    s = Slots(slots)
    s["friction"] = friction_words(rng, lang, frictions) or (
        ph.FRICTION_WORDS["unresolved"][lang][0] if tone >= NEGATIVE else ""
    )
    return fill(rng, ph.SOCIAL_POST[tone], lang, s)


def brand_reply(rng: Random, lang: str, slots: Slots, positive: bool) -> str:
    options = ph.BRAND_REPLY[lang]
    return (options[2] if positive else options[int(rng.random() * 2)]).format_map(slots)


def review(rng: Random, lang: str, stars: int, slots: Slots, frictions: list[str]) -> str:
    s = Slots(slots)
    s["friction"] = _cap(friction_words(rng, lang, frictions) or ph.FRICTION_WORDS["unresolved"][lang][0])
    return fill(rng, ph.REVIEW[stars], lang, s)


def pos_note(rng: Random, lang: str, kind: str, slots: Slots) -> str:
    return fill(rng, ph.POS_NOTE[kind], lang, slots)
