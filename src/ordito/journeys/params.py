"""Parameters of the journeys stage: windows, thresholds and the lexicons that read needs from events.

Every number a friction or an episode boundary depends on is here, with its meaning, so that a claim such
as "repeat contact" can be stated with its window (docs/JOURNEYS.md lists them all). A workspace keeps the
parameters of its last run in ``meta`` (``journeys:params``); changing them triggers a full rebuild.

Examples:
    >>> from ordito.journeys.params import Params
    >>> p = Params(repeat_window_days=3)        # FCR with a 3-day window instead of 7
    >>> p.long_wait_seconds["voice"]
    300.0
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

DAY = 86400.0
HOUR = 3600.0

#: The needs ordito tells apart, and "other" when nothing says which.
INTENTS = (
    "purchase",
    "delivery_problem",
    "repair",
    "refund",
    "address_change",
    "subscription",
    "info",
    "browse",
    "feedback",
    "marketing",
    "other",
)
#: Needs served by people (service episodes); the others are commerce or browsing.
SERVICE_INTENTS = ("delivery_problem", "repair", "refund", "address_change", "subscription", "info", "other")

#: Channels where a person serves the customer; web and app are self-service.
ASSISTED_CHANNELS = ("voice", "chat", "email", "store", "social", "sms")
SELF_SERVICE_CHANNELS = ("web", "app")

# Words that say which need a text, a CRM category, a call note or an e-mail subject is about (Italian and
# English, lower case, RE2 syntax). A text votes for every need whose pattern it matches; the need with
# the most votes wins, ties broken by the order below (the more specific needs first). Department names
# ("logistica", "assistenza tecnica") are deliberately absent: a contact often reaches the wrong team.
INTENT_WORDS: dict[str, str] = {
    "subscription": (
        r"abbonament|estensione di garanzia|garanzia estesa|piano filtri|filtri acqua 12|canone|fattur|disdir|"
        r"subscription|extended warranty|filter plan|\bplan\b|invoice|cancel it|charged me twice"
    ),
    "refund": (
        r"rimbors|\breso\b|\bresi\b|restitu|addebitato .{0,40}ordine|refund|\breturn\b|returns|"
        r"send back|sent back|charged me .{0,30} for order"
    ),
    "address_change": r"indirizz|anagrafic|mi sono trasferit|address|moved house",
    "repair": (
        r"guast|ripar|difett|non funziona|intervento tecnico|tecnico|non si accende|non scarica|perde acqua|"
        r"errore [a-z]?[0-9]|non raffredda|non si scalda|non asciuga|non aspira|non macina|non monta|rumor|"
        r"display|spento|ghiaccio|guarnizione|ventola|batteria|oblò|centrifuga|si ferma|laboratorio|apparecchio|"
        r"workshop|booked in|took in|"
        r"bloccat|fault|repair|broken|engineer|won't|doesn't|isn't cooling|leaks|error [a-z]?[0-9]|noisy|"
        r"very loud|stuck|lost suction|blank display|warped"
    ),
    "info": (
        r"disponibil|differenza|quanto costa|consuma|classe energetica|ritiro dell'usato|va bene per|"
        r"informazion|domanda prodotto|available|difference|how much|energy|take away|big enough|"
        r"product question|product query|question about [a-z]{2}[0-9]"
    ),
    "delivery_problem": (
        r"consegn|corriere|spedizion|tracking|non è ancora arrivat|giacenza|deliver|courier|parcel|"
        r"dispatch|hasn't arrived|nothing has arrived|still waiting for .{0,60} order"
    ),
    "purchase": r"pagamento|supporto acquisto|acquisto|payment|trying to buy",
}
INTENT_ORDER = tuple(INTENT_WORDS)

# What a web page or an app screen is, from words in its URL path or screen name (first match wins).
PAGE_KINDS: tuple[tuple[str, str], ...] = (
    ("confirmation", r"conferma|confirmation|thank-you"),
    ("checkout", r"checkout"),
    ("cart", r"carrello|basket|/cart"),
    ("tracking", r"tracking|traccia|order_tracking"),
    ("orders", r"ordini|/orders|^orders$"),
    ("return_form", r"resi/richiesta|returns/request|return-request"),
    ("returns", r"/resi|/returns|^returns$"),
    ("repair_form", r"riparazione|repair-request|repair_request"),
    ("faq_repair", r"faq/guasti|faq/repairs"),
    ("faq_delivery", r"faq/consegne|faq/delivery"),
    ("faq_plans", r"faq/garanzia|faq/warranty"),
    ("address", r"indirizzi|addresses"),
    ("plans", r"abbonamenti|/plans|/p/sub-"),
    ("contact", r"contatti|contact"),
    ("support_form", r"assistenza/richiesta|help/request"),
    ("support", r"/assistenza$|/help$|^support$"),
    ("login", r"accesso|sign-in|login"),
    ("account", r"/account$|^account$"),
    ("newsletter", r"newsletter"),
    ("stores", r"negozi|/stores"),
    ("search", r"cerca|search"),
)
#: Page kinds that belong to a need served after a purchase (self-service for that need).
SERVICE_PAGES: dict[str, str] = {
    "tracking": "delivery_problem",
    "orders": "delivery_problem",
    "faq_delivery": "delivery_problem",
    "returns": "refund",
    "return_form": "refund",
    "repair_form": "repair",
    "faq_repair": "repair",
    "address": "address_change",
    "faq_plans": "subscription",
    "plans": "subscription",
    "support": "other",
    "support_form": "other",
    "contact": "other",
}
#: Form names that sign up to something (not a request to be served).
SIGNUP_FORMS = r"abbonament|plan|signup|sign_up|iscrizione|newsletter|subscri"

#: A product code in a URL, a SKU or a text (upper-cased; dashes are removed before comparing).
PRODUCT_CODE = r"\b([A-Z]{2,3}-?[0-9]{2,3}[A-Z]{1,2}|ACC-[A-Z]{3}[0-9]{2}|SUB-[A-Z0-9]{5})\b"
#: An order number in a text, a ticket or a subject.
ORDER_NUMBER = r"\b([A-Z]{2}-[0-9]{4}-[0-9]{5,8})\b"
#: A ticket / case number in a text or a survey's context.
TICKET_NUMBER = r"\b(TCK-[0-9]{4,10})\b"

#: Words of an agent who ends a contact without solving it (defers, transfers, promises a call back).
DEFER_WORDS = (
    r"ricontatt|faremo sapere|verificare con|giro la segnalazione|trasferisc|la passo|richiamo|scalato|"
    r"trasferit|get back to you|let you know|check with|pass this to|transfer you|put you through|"
    r"callback|call you back|escalated|transferred to"
)
#: Words of a call note that says the call solved the need.
SOLVED_WORDS = r"risolto|fornite informazioni|resolved|information given|sorted"

# --- information asked twice ---------------------------------------------------------------------
#: The facts that identify each need: a customer giving one again in a later contact of the same episode
#: had to repeat themselves.
FACT_KINDS: dict[str, tuple[str, ...]] = {
    "delivery_problem": ("order_number",),
    "refund": ("order_number",),
    "repair": ("product", "problem"),
    "address_change": ("address",),
    "subscription": ("problem",),
    "info": ("product",),
}
#: A postal address (Italian: number and CAP; British: number, street, town and postcode).
ADDRESS_PATTERNS = (
    r"\b[0-9]{1,4}[a-zA-Z]?, [0-9]{5}\b",
    r"\b[0-9]{1,4} [^,.]{2,40}, [^,.]{2,30} [A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}\b",
)
#: Where the description of a fault or a complaint starts in a sentence (lower case); the description
#: runs to the end of the clause.
SYMPTOM_WORDS = (
    r"\bnon |\bperde |mostra l'errore|fa un rumore|\bsi ferma|forma ghiaccio|\bha (?:il|la|l'|lo|una|un|i|le|gli) |"
    r"addebitat|disdir|\bfiltri |won't|doesn't|isn't|\bnever |\bleaks|shows error|is very loud|"
    r"\bhas (?:a|an|its|lost) |\bstops |builds up|charged me|\bcancel|\bfilters "
)
#: Complaints about the service itself, not a description of the need ("it's not the first time...").
NOT_SYMPTOM = (
    r"^(non è|non ho ancora|non ci credo|non compr|non risolvete|non so |isn't the first|isn't sorted|"
    r"never buy|never again)"
)


@dataclass(frozen=True)
class Params:
    """Windows and thresholds of episodes, friction and KPIs (all durations in seconds unless named)."""

    # --- episodes ---------------------------------------------------------------------------
    #: a contact about a need continues that need's episode when it comes within this many days of the
    #: episode's last activity (contacts of one need are days, sometimes three weeks, apart)
    continue_days: float = 30.0
    #: a self-service visit, a contact or a post that says nothing of its need continues the most recent
    #: open need within this many days
    followup_days: float = 30.0
    #: a question about a plan continues the plan's sign-up episode within this many days
    plan_days: float = 180.0
    #: research visits about a product belong to its purchase when they come this many days before it
    research_days: float = 21.0
    #: a self-service visit belongs to the need of the contact that follows it within this many seconds
    #: (the customer gave up on the website and called); without one, to the need its pages show
    self_service_lead: float = 72 * HOUR
    #: an app session ends after this much inactivity (apps export no session id)
    app_session_gap: float = 30 * 60.0
    #: a ticket update, a survey, a brand reply join the contact they follow within this many seconds
    attach_seconds: float = 30 * 60.0
    #: an episode with no activity and no resolution for this many days before the end of the data is
    #: abandoned; younger ones are open
    abandon_after_days: float = 30.0
    # --- friction ---------------------------------------------------------------------------
    #: repeat contact: a contact within this many days of the previous contact of the same episode
    repeat_window_days: float = 7.0
    #: digital dead end: a form error / failed login / contact page at most this long before a call,
    #: chat or e-mail
    dead_end_window: float = 48 * HOUR
    #: long wait, per channel: voice seconds in queue, chat seconds from the customer's first message to
    #: the first agent message, e-mail seconds to the reply
    long_wait_seconds: dict[str, float] = field(
        default_factory=lambda: {"voice": 300.0, "chat": 120.0, "email": 48 * HOUR}
    )
    #: unresolved: still open this many days after the first contact
    unresolved_days: float = 14.0
    #: department bounce: assisted contacts handled by at least this many departments
    bounce_departments: int = 3
    #: department of the channels whose exports name none (social care answers for the brand)
    channel_departments: dict[str, str] = field(
        default_factory=lambda: {"social": "customer_service", "store": "store_operations"}
    )
    #: negative sentiment (needs table voc): a customer text this far below the episode's previous one
    sentiment_drop: float = 0.6
    #: the end of the data for open/unresolved decisions; None = the latest event in the workspace
    as_of: str | None = None

    def fingerprint(self) -> str:
        """A short hash of every parameter and lexicon: stored runs with another one are rebuilt."""
        blob = json.dumps(
            {
                "params": asdict(self),
                "words": INTENT_WORDS,
                "pages": PAGE_KINDS,
                "codes": [PRODUCT_CODE, ORDER_NUMBER, TICKET_NUMBER, *ADDRESS_PATTERNS],
                "facts": [FACT_KINDS, SYMPTOM_WORDS, NOT_SYMPTOM, DEFER_WORDS, SOLVED_WORDS],
                "version": STAGE_VERSION,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


#: Bumped when the algorithm changes what it produces (forces a rebuild of existing workspaces).
STAGE_VERSION = 1
