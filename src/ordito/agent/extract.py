"""Extractive reading of contact texts: the facts a customer gave, their statements, promises, language.

Everything here is a pure function of a text (deterministic, no model, no network), written for the
languages ordito's customers write in (Italian and English); patterns are generic shapes (an order
reference, a model code, a street address, an amount, a date), not values of any one company.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- facts ----------------------------------------------------------------------------------------

#: order references: IT-2025-0012345, UK-2025-0012345, ORD-2025-001234 (letters, year, number)
ORDER = re.compile(r"\b[A-Z]{2,4}-(?:19|20)\d{2}-\d{5,9}\b")
#: "ordine n. 123456", "order #A12345", "order number 98765432"
ORDER_CTX = re.compile(
    r"(?i)\b(?:ordine|order|ordinazione)\s+(?:n[.°º]?\s*|no\.?\s*|num(?:ero|ber)?\.?\s*|#\s*)?([A-Z0-9][A-Z0-9/-]{4,19})\b"
)
#: model codes: DW320W, VC718X, OV310X (2-3 capitals, 3 digits, an optional capital) and SKUs DW-320W
MODEL = re.compile(r"\b([A-Z]{2,3})-?(\d{3}[A-Z]?)\b")
_IT_STREET = (
    r"(?:Via|Viale|Corso|Piazza|Piazzale|Largo|Vicolo|Vico|Strada|Lungomare|Borgo|Contrada|Localit[àa])"
)
ADDRESS_IT = re.compile(
    rf"\b{_IT_STREET}\s[^,\n.;:!?]{{1,60}}?\s\d{{1,4}}[A-Za-z]?(?:/[A-Za-z0-9]+)?,\s*\d{{5}}\s[^(\n,.;]{{1,40}}?\s\([A-Z]{{2}}\)"
)
ADDRESS_UK = re.compile(
    r"\b(?:(?:Flat|Apartment|Unit)\s\w{1,4},\s)?\d{1,4}[A-Za-z]?\s[A-Z][\w'’.-]*(?:\s[\w'’.-]+){0,4},"
    r"\s[A-Z][\w'’-]*(?:\s[\w'’-]+){0,3}\s[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b"
)
AMOUNT = re.compile(
    r"(?:(?:€|£)\s?\d{1,3}(?:[.,\s]?\d{3})*(?:[.,]\d{2})?|\b\d{1,3}(?:[.,\s]?\d{3})*(?:[.,]\d{2})?\s?(?:EUR|GBP|euro|€|£))"
)
_MONTHS = (
    "gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre|"
    "january|february|march|april|may|june|july|august|september|october|november|december"
)
DATE = re.compile(
    rf"(?i)\b(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}\s(?:{_MONTHS})(?:\s\d{{4}})?)\b"
)
#: notes that name the problem: "Problema: non si accende." / "Problem: has a blank display."
PROBLEM_LABEL = re.compile(r"(?i)\b(?:problema|problem|difetto|defect|fault|guasto)\s*:\s*([^.\n]{3,160})")


@dataclass(frozen=True)
class Fact:
    kind: str  # order_number, product, address, amount, date, problem
    value: str


def facts_in(text: str) -> list[Fact]:
    """Order numbers, model codes, addresses, amounts, dates and labelled problems found in a text."""
    out: list[Fact] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, value: str) -> None:
        v = " ".join(value.split()).strip(" ,.;:")
        if v and (kind, v.lower()) not in seen:
            seen.add((kind, v.lower()))
            out.append(Fact(kind, v))

    orders = ORDER.findall(text)
    for m in orders:
        add("order_number", m)
    for m in ORDER_CTX.finditer(text):
        v = m.group(1)
        if any(ch.isdigit() for ch in v) and not any(v in o for o in orders):
            add("order_number", v)
    for m in MODEL.finditer(text):
        start = m.start()
        if start >= 1 and text[start - 1] in "-/":  # part of an order number or path
            continue
        add("product", m.group(1) + m.group(2))
    for rx in (ADDRESS_IT, ADDRESS_UK):
        for m in rx.finditer(text):
            add("address", m.group(0))
    for m in AMOUNT.finditer(text):
        add("amount", m.group(0))
    for m in DATE.finditer(text):
        add("date", m.group(0))
    for m in PROBLEM_LABEL.finditer(text):
        add("problem", m.group(1))
    return out


# --- statements in the customer's words ------------------------------------------------------------

_SENT = re.compile(r"(?<=[.!?])\s+|\n+")
_GREETING = re.compile(
    r"(?i)^(?:buongiorno|buonasera|buon pomeriggio|salve|ciao|gentil\w*(?:\s+\w+)?|egregi\w*(?:\s+\w+)?|spett\w*|"
    r"hello|hi|hi there|hey|good (?:morning|afternoon|evening)|dear\s+\w+(?:\s+\w+)?|da chat|da email|da web|"
    r"da telefono|richiesta dal modulo web|from chat|from email|from web|from phone|web form request)"
    r"(?:\s+(?:a voi|team|assistenza|servizio clienti|customer care|all))?\s*[,:!.]?\s*"
)
_SMALL_TALK = re.compile(
    r"(?i)^(?:ok(?:ay)?|va bene|grazie(?: mille)?|thanks?(?: you)?|alright|perfetto|perfect|great|bene|"
    r"cordiali saluti|saluti|distinti saluti|kind regards|regards|best|many thanks|thanks again|"
    r"attendo (?:un )?vostr[oa] (?:riscontro|risposta)|i look forward to your reply|looking forward to hearing from you|"
    r"grazie per l'aiuto|thanks for your help|a presto|buona giornata|have a nice day|gentilissimi(?:, grazie)?|"
    r"speriamo|let'?s hope so(?: this time)?|speriamo bene|any news\??|novità\??|ci sono novità\??)[\s.,!?]*$"
)
_SIGNATURE = re.compile(r"^[A-Z][a-zà-ü]+(?:\s[A-Z][a-zà-ü']+){0,2}$")


def statements(text: str) -> list[str]:
    """The sentences of a customer's message that say something (greetings, thanks, sign-offs dropped)."""
    out: list[str] = []
    for raw in _SENT.split(text.strip()):
        s = raw.strip()
        if not s:
            continue
        s = _GREETING.sub("", s, count=1).strip()
        if (
            not s
            or _SIGNATURE.match(s)
            or all(_SMALL_TALK.match(p.strip()) for p in s.split(",") if p.strip())
        ):
            continue
        if len(s) < 8 or not re.search(r"\w{3}", s):
            continue
        out.append(s[0].upper() + s[1:])
    return out


# --- promises and outcomes ---------------------------------------------------------------------------

PROMISE = re.compile(
    r"(?i)(?:\bentro\s+\d+\s*(?:h|ore|giorni)|\bwithin\s+\d+\s*(?:h|hours?|days?)|ricontatt|richiam|"
    r"la contatter|ti contatter|vi contatter|contatterà|will (?:call|contact|get back|be in touch|send|arrange)|"
    r"we'll (?:let you know|call|contact|get back|send|arrange)|callback promised|promised|promess|"
    r"sarà ricontattat|le faremo sapere|ti faremo sapere|vi faremo sapere|un tecnico|a technician|"
    r"ho aperto una richiesta|i've opened a (?:request|case)|giro la segnalazione|i'?ll pass this)"
)
RESOLVED = re.compile(
    r"(?i)(?:risolt|resolved|solved|completat|completed|fatto:|done:|chiusura|closed|rimborso effettuato|refund issued)"
)
TRANSFER = re.compile(r"(?i)(?:trasferit\w* a|transferred to|passo a|put you through|scalato|escalated)")


def promise_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.split(text.strip()) if s.strip() and PROMISE.search(s)]


# --- language ---------------------------------------------------------------------------------------

_IT = frozenset(
    [
        "il",
        "lo",
        "la",
        "i",
        "gli",
        "le",
        "di",
        "del",
        "della",
        "che",
        "non",
        "è",
        "per",
        "con",
        "mi",
        "ho",
        "un",
        "una",
        "sono",
        "ancora",
        "mio",
        "mia",
        "vostro",
        "grazie",
        "buongiorno",
        "salve",
        "ordine",
        "cliente",
        "chiama",
        "problema",
        "vorrei",
        "come",
        "perché",
        "già",
        "anche",
        "più",
        "nel",
    ]
)
_EN = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "to",
        "and",
        "is",
        "it",
        "my",
        "i",
        "not",
        "have",
        "has",
        "still",
        "your",
        "thanks",
        "hello",
        "order",
        "customer",
        "called",
        "problem",
        "would",
        "please",
        "with",
        "was",
        "this",
        "that",
        "for",
        "already",
        "on",
        "in",
    ]
)
_WORD = re.compile(r"[a-zàèéìòù']+")


def language_of(texts: list[str]) -> str | None:
    """'it' or 'en' by common words (None when the texts say nothing)."""
    it = en = 0
    for t in texts:
        for w in _WORD.findall(t.lower()):
            if w in _IT:
                it += 1
            elif w in _EN:
                en += 1
    if it == en == 0:
        return None
    return "it" if it > en else "en"


# --- needs --------------------------------------------------------------------------------------------

#: what a customer needs, recognised by the words they (or the CRM category) use; the department that
#: usually owns it is a default an organisation can change
NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "delivery": (
        "logistics",
        (
            "consegn",
            "deliver",
            "spedizion",
            "shipping",
            "tracking",
            "corriere",
            "courier",
            "arrivat",
            "arrived",
            "ritardo",
            "late",
            "rescheduled",
            "riprogrammat",
            "aspetto ancora",
            "still waiting",
        ),
    ),
    "repair": (
        "technical_support",
        (
            "guast",
            "fault",
            "ripar",
            "repair",
            "non funziona",
            "doesn't work",
            "tecnico",
            "technician",
            "non si accende",
            "won't switch on",
            "display",
            "errore",
            "error",
            "perde",
            "leak",
            "rumor",
            "noisy",
            "loud",
            "non scarica",
            "drain",
            "assistenza tecnica",
            "intervento",
        ),
    ),
    "refund": (
        "billing",
        ("rimbors", "refund", "reso", "return", "restitu", "send it back", "soldi indietro"),
    ),
    "address": ("customer_service", ("indirizzo", "address", "trasloc", "moved house", "anagrafic")),
    "subscription": (
        "billing",
        (
            "abbonament",
            "subscription",
            " plan",
            "estensione di garanzia",
            "extended warranty",
            "canone",
            "addebit",
            "charged",
            "disdir",
            "cancel",
            "fattura",
            "invoice",
            "filtri non",
            "filters never",
        ),
    ),
    "info": (
        "sales",
        (
            "disponibil",
            "available",
            "quanto costa",
            "how much",
            "differenza",
            "difference",
            "classe energetica",
            "energy",
            "ritiro dell",
            "take away",
            "famiglia",
            "family",
            "consum",
            "informazion",
            "question",
            "domanda",
            "installazione",
            "installation",
        ),
    ),
}


def need_of(texts: list[str]) -> tuple[str | None, dict[str, int]]:
    """The need the texts are most about, and the word hits per need (None when nothing matches)."""
    low = " ".join(t.lower() for t in texts)
    hits = {need: sum(low.count(w) for w in words) for need, (_, words) in NEEDS.items()}
    best = max(hits, key=lambda k: (hits[k], -list(NEEDS).index(k)))
    return (best if hits[best] > 0 else None), hits
