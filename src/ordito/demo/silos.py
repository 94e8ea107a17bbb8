"""The ten silos: their files, columns, and the buffer one chunk of households writes into.

Rows are formatted when they are made (a CSV line, a JSON line, a Parquet tuple), each with its time
and its ground-truth row; :mod:`ordito.demo.writers` sorts a chunk by time and appends it to the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(frozen=True)
class Silo:
    source: str
    path: str  # relative to the company folder
    fmt: str  # csv | jsonl | json | parquet
    key: tuple[str, ...]
    columns: tuple[str, ...] = ()
    delimiter: str = ","
    encoding: str = "utf-8"


WEB_COLUMNS = (
    "hit_id",
    "session_id",
    "cookie_id",
    "user_id",
    "email_id",
    "ts",
    "event",
    "page_url",
    "page_title",
    "form_name",
    "error_message",
    "search_query",
    "cart_value",
    "currency",
    "device",
    "country",
    "referrer",
)
CALL_COLUMNS = (
    "call_id",
    "leg",
    "site",
    "start_time",
    "ani",
    "ivr_path",
    "queue",
    "department",
    "wait_seconds",
    "talk_seconds",
    "hold_seconds",
    "agent_id",
    "transferred_to",
    "disposition",
    "crm_customer_id",
    "notes",
)
CRM_COLUMNS = (
    "ticket_id",
    "update_no",
    "updated_at",
    "action",
    "status",
    "crm_customer_id",
    "contact_name",
    "contact_email",
    "contact_phone",
    "social_handle",
    "origin_channel",
    "department",
    "agent_id",
    "category",
    "subject",
    "comment",
    "order_ref",
)
POS_COLUMNS = (
    "store_id",
    "receipt_no",
    "ts",
    "store_country",
    "loyalty_card",
    "email",
    "type",
    "amount",
    "currency",
    "items",
    "staff_id",
    "note",
)
SURVEY_COLUMNS = (
    "response_id",
    "survey",
    "sent_at",
    "answered_at",
    "email",
    "crm_customer_id",
    "context_ref",
    "nps",
    "csat",
    "ces",
    "comment",
    "language",
)
APP_FIELDS = (
    "event_id",
    "device_id",
    "platform",
    "app_version",
    "timestamp",
    "name",
    "screen",
    "user",
    "params",
)
CHAT_FIELDS = (
    "conversation_id",
    "message_id",
    "ts",
    "sender",
    "agent_id",
    "department",
    "visitor_id",
    "visitor_email",
    "visitor_name",
    "text",
    "status",
)
EMAIL_FIELDS = (
    "message_id",
    "thread_id",
    "date",
    "from",
    "to",
    "subject",
    "body",
    "direction",
    "mailbox",
    "department",
    "agent_id",
)
SOCIAL_FIELDS = (
    "id",
    "platform",
    "handle",
    "ts",
    "kind",
    "text",
    "rating",
    "lang",
    "author_name",
    "in_reply_to",
    "from_brand",
)
SHOP_COLUMNS = (
    "order_id",
    "status",
    "status_ts",
    "shop_customer_id",
    "email",
    "phone",
    "customer_name",
    "total",
    "currency",
    "items",
    "shipping_address",
    "channel",
    "carrier",
    "tracking_no",
)

SILOS: tuple[Silo, ...] = (
    Silo("web", "web/web_analytics.csv", "csv", ("hit_id",), WEB_COLUMNS),
    Silo("app", "app/app_events.jsonl", "jsonl", ("event_id",), APP_FIELDS),
    Silo("calls", "contact_center/calls.csv", "csv", ("call_id", "leg"), CALL_COLUMNS, delimiter=";"),
    Silo("chat", "chat/chat_transcripts.jsonl", "jsonl", ("message_id",), CHAT_FIELDS),
    Silo("email", "email/emails.json", "json", ("message_id",), EMAIL_FIELDS),
    Silo("crm", "crm/crm_tickets.csv", "csv", ("ticket_id", "update_no"), CRM_COLUMNS),
    Silo("shop", "shop/orders.parquet", "parquet", ("order_id", "status"), SHOP_COLUMNS),
    Silo(
        "pos",
        "stores/pos_transactions.csv",
        "csv",
        ("store_id", "receipt_no"),
        POS_COLUMNS,
        encoding="latin-1",
    ),
    Silo("surveys", "surveys/survey_responses.csv", "csv", ("response_id",), SURVEY_COLUMNS),
    Silo("social", "social/social_mentions.jsonl", "jsonl", ("id",), SOCIAL_FIELDS),
)
BY_SOURCE = {s.source: s for s in SILOS}
SOURCES = tuple(s.source for s in SILOS)


def q(s: str) -> str:
    """A CSV field for the ``,`` files: quoted when it holds a delimiter, quote or line break."""
    if '"' in s or "," in s or "\n" in s or "\r" in s:
        return '"' + s.replace('"', '""') + '"'
    return s


def q_semi(s: str) -> str:
    """A CSV field for the ``;`` file."""
    if '"' in s or ";" in s or "\n" in s or "\r" in s:
        return '"' + s.replace('"', '""') + '"'
    return s


def dumps(obj: dict[str, Any]) -> bytes:
    return orjson.dumps(obj)


# Ground-truth row of one record:
# (source, source_key, person_id, episode_id, intent, sentiment, sentiment_score, language, t)
TruthRow = tuple[str, str, str | None, str | None, str | None, str | None, float | None, str | None, float]
# Ground truth of a web hit, kept short (web hits are most records): (hit_id, person_id, episode_id, intent, t)
WebTruthRow = tuple[str, str, str | None, str | None, int]
# A silo row: (t, payload, index of its truth row: in ``web_truth`` for web hits, else in ``truth``)
Row = tuple[int, Any, int]
# A web session: (index of its first hit in ``web_truth``, hits, cookie key, index of the first hit that
# carries the shop id or -1, shop id key, newsletter eid key on the first hit or "").
WebLink = tuple[int, int, str, int, str, str]
# The letter of an identifier key by (kind, namespace): a key is the letter + the normalised value.
KEY_LETTER = {
    ("email", ""): "e",
    ("phone", ""): "p",
    ("customer_id", "crm"): "c",
    ("customer_id", "shop"): "s",
    ("loyalty_id", "elettra"): "l",
    ("anonymous_id", ""): "a",
    ("anonymous_id", "eid"): "i",
    ("handle", "social"): "h",
}


@dataclass
class Chunk:
    """Everything one chunk of households produced, in memory until it is written."""

    rows: dict[str, list[Row]] = field(default_factory=lambda: {s: [] for s in SOURCES})
    truth: list[TruthRow] = field(default_factory=list)
    web_truth: list[WebTruthRow] = field(default_factory=list)
    identifiers: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    persons: list[tuple[Any, ...]] = field(default_factory=list)
    episodes: list[tuple[Any, ...]] = field(default_factory=list)
    frictions: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    facts: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    protect: set[str] = field(default_factory=set)  # "source:key" of evidence: never made dirty
    households: int = 0
    # What an exact-matching linker sees (for ``identity_hard_cases.csv``): the identifier keys of each
    # record (a kind letter + the value as ordito normalises what is written, see :data:`KEY_LETTER`).
    ids: list[tuple[str, ...]] = field(default_factory=list)  # of each row of ``truth``
    web_links: list[WebLink] = field(default_factory=list)
    shared: set[str] = field(default_factory=set)  # keys of values several people own (family phones)
    typos: set[str] = field(default_factory=set)  # keys of misspelt email addresses
    hard_cases: list[tuple[str, str, str, str, str]] = field(default_factory=list)

    def key(self, source: str, index: int) -> str:
        """The source key of a row's truth."""
        return self.web_truth[index][0] if source == "web" else self.truth[index][1]

    def size(self) -> int:
        return len(self.truth) + len(self.web_truth)
