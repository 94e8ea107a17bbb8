"""The Segment tracking spec on the way in: check, correct and normalise messages (pure, no IO).

A request body is one message (``/v1/track`` ...) or ``{"batch": [...]}`` (``/v1/batch``, ``/v1/import``).
Each message is checked on its own: a bad message is rejected with a reason while the good ones of the same
batch proceed, as Segment does. A good message becomes one JSON line in a fixed shape (every spec field
present, ``null`` when absent), which is what the loader's mapping reads::

    >>> from datetime import datetime, UTC
    >>> now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    >>> r = process("track", {"userId": 7, "event": "Order Completed", "messageId": "m1",
    ...                       "timestamp": "2024-05-01T11:00:00Z", "sentAt": "2024-05-01T11:00:10Z"}, now)
    >>> [a.message_id for a in r.accepted], r.rejected
    (['m1'], [])

``timestamp`` is corrected for the sender's clock skew the way Segment does it:
``timestamp = receivedAt - (sentAt - originalTimestamp)``; without ``sentAt`` the client's timestamp is
kept, and without a timestamp the message happened when it was received.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from ..model import Channel

MAX_MESSAGE_BYTES = 32 * 1024  # Segment: 32 KB per message
MAX_BODY_BYTES = 500 * 1024  # Segment: 500 KB per batch request (uncompressed)

CALL_TYPES = ("track", "identify", "page", "screen", "group", "alias")

#: The top-level keys of a normalised message, in order; unknown keys the sender added go under ``extra``.
LINE_FIELDS = (
    "type",
    "messageId",
    "timestamp",
    "originalTimestamp",
    "sentAt",
    "receivedAt",
    "userId",
    "anonymousId",
    "previousId",
    "groupId",
    "event",
    "name",
    "category",
    "properties",
    "traits",
    "context",
    "integrations",
    "extra",
    "ordito",
)
_KNOWN = (frozenset(LINE_FIELDS) - {"ordito"}) | {"writeKey"}
_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")
_UTC = dt.UTC
# datetimes are written by orjson as RFC 3339 in UTC with a Z (microseconds when not zero)
_DUMPS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


@dataclass(slots=True)
class Accepted:
    message_id: str
    line: bytes  # one JSON line, newline included


@dataclass(slots=True)
class Rejected:
    index: int
    message_id: str | None
    reason: str
    raw: str  # the message as received (JSON text)

    def as_reply(self) -> dict[str, Any]:
        return {"index": self.index, "messageId": self.message_id, "reason": self.reason}


@dataclass(slots=True)
class Result:
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


class BadMessage(ValueError):
    """One message does not follow the spec; the reason is the text."""


class BadBody(ValueError):
    """The body as a whole does not follow the spec (no message can be read from it)."""


def parse_time(value: Any, name: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise BadMessage(f"{name} must be an ISO 8601 date string, not {_kind(value)}")
    try:
        ts = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadMessage(f"{name} {value[:40]!r} is not an ISO 8601 date") from None
    if ts.tzinfo is None:
        return ts.replace(tzinfo=_UTC)
    if ts.utcoffset():
        return ts.astimezone(_UTC)
    return ts


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(type(v), "a number")


def _id(msg: dict[str, Any], name: str) -> str | None:
    """An id field: a non-empty string or a number (stringified, as the SDKs do)."""
    v = msg.get(name)
    if v is None:
        return None
    if type(v) is str:
        return v if v and not v[0].isspace() and not v[-1].isspace() else (v.strip() or None)
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(v)
    raise BadMessage(f"{name} must be a string, not {_kind(v)}")


def normalise(
    msg: Any,
    call: str | None,
    received: dt.datetime,
    batch_sent_at: dt.datetime | None,
    batch_context: dict[str, Any] | None,
) -> tuple[str, bytes]:
    """One message -> (messageId, JSON line). Raises BadMessage with the reason."""
    if type(msg) is not dict:
        raise BadMessage(f"a message must be a JSON object, not {_kind(msg)}")
    get = msg.get
    typ = call or get("type")
    if typ not in CALL_TYPES:
        raise BadMessage(
            f"type must be one of {', '.join(CALL_TYPES)}, not {str(typ)[:40]!r}"
            if typ is not None
            else "type is missing"
        )
    v = get("userId")
    user_id = v if type(v) is str and v and not v[0].isspace() and not v[-1].isspace() else _id(msg, "userId")
    v = get("anonymousId")
    anonymous_id = (
        v if type(v) is str and v and not v[0].isspace() and not v[-1].isspace() else _id(msg, "anonymousId")
    )
    previous_id = _id(msg, "previousId") if "previousId" in msg else None
    group_id = _id(msg, "groupId") if "groupId" in msg else None
    if typ == "alias":
        if previous_id is None or user_id is None:
            raise BadMessage("alias needs both previousId and userId")
    elif user_id is None and anonymous_id is None:
        raise BadMessage(f"{typ} needs a userId or an anonymousId")
    event = get("event")
    if typ == "track":
        if type(event) is not str or not event or (event[0].isspace() and not event.strip()):
            raise BadMessage("track needs an event name (a non-empty string)")
    elif event is not None and type(event) is not str:
        raise BadMessage(f"event must be a string, not {_kind(event)}")
    if typ == "group" and group_id is None:
        raise BadMessage("group needs a groupId")
    name = get("name")
    if name is not None and type(name) is not str:
        raise BadMessage(f"name must be a string, not {_kind(name)}")
    category = get("category")
    if category is not None and type(category) is not str:
        raise BadMessage(f"category must be a string, not {_kind(category)}")
    properties = get("properties")
    if properties is not None and type(properties) is not dict:
        raise BadMessage(f"properties must be an object, not {_kind(properties)}")
    traits = get("traits")
    if traits is not None and type(traits) is not dict:
        raise BadMessage(f"traits must be an object, not {_kind(traits)}")
    context = get("context")
    if context is not None and type(context) is not dict:
        raise BadMessage(f"context must be an object, not {_kind(context)}")
    integrations = get("integrations")
    if integrations is not None and type(integrations) is not dict:
        raise BadMessage(f"integrations must be an object, not {_kind(integrations)}")
    v = get("messageId")
    message_id = v if type(v) is str and v and not v[0].isspace() else _id(msg, "messageId")
    if message_id is None:
        message_id = f"ordito-{uuid.uuid4()}"

    ts = get("timestamp")
    original = parse_time(ts, "timestamp") if ts is not None else None
    sent = get("sentAt")
    sent_at = parse_time(sent, "sentAt") if sent is not None else batch_sent_at
    if original is None:
        corrected = received
    elif sent_at is None:
        corrected = original
    else:
        corrected = received - (sent_at - original)

    if batch_context:
        context = {**batch_context, **(context or {})}
    if traits is None and context is not None:
        ct = context.get("traits")  # identify from RudderStack and others: traits inside the context
        if type(ct) is dict:
            traits = ct
    extra = None if msg.keys() <= _KNOWN else {k: v for k, v in msg.items() if k not in _KNOWN}
    if properties:
        value = _value(properties)
        currency = properties.get("currency")
    else:
        value = currency = None
    out = {
        "type": typ,
        "messageId": message_id,
        "timestamp": corrected,
        "originalTimestamp": ts if original is not None else None,
        "sentAt": sent_at,
        "receivedAt": received,
        "userId": user_id,
        "anonymousId": anonymous_id,
        "previousId": previous_id,
        "groupId": group_id,
        "event": event,
        "name": name,
        "category": category,
        "properties": properties,
        "traits": traits,
        "context": context,
        "integrations": integrations,
        "extra": extra,
        "ordito": {
            "channel": channel_of(typ, context),
            "type": type_of(typ, event),
            "value": value,
            "currency": currency,
            "language": _language(context),
        },
    }
    line = orjson.dumps(out, option=_DUMPS)
    if len(line) > MAX_MESSAGE_BYTES:
        # the limit is on the message as sent; the line adds a few server fields, so measure that
        size = len(orjson.dumps({k: v for k, v in msg.items() if k != "writeKey"}))
        if size > MAX_MESSAGE_BYTES:
            raise BadMessage(
                f"message of {size} bytes exceeds the limit of {MAX_MESSAGE_BYTES} bytes (32 KB)"
            )
    return message_id, line


# --- ordito's reading of a message: cheap per message here, costly per row in SQL -------------------

#: Segment spec event names (snake_cased) -> ordito event types (``ordito.model.EVENT_TYPES``).
SEGMENT_EVENTS: dict[str, str] = {
    "order_completed": "order_placed",
    "order_cancelled": "order_cancelled",
    "order_refunded": "refund_issued",
    "product_added": "add_to_cart",
    "checkout_started": "checkout_started",
    "products_searched": "search",
    "signed_in": "login",
    "signed_up": "signup",
    "cart_abandoned": "cart_abandoned",
}
_CALL_EVENT = {"page": "page_view", "screen": "screen_view"}
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_MOBILE = re.compile(r"ios|android|react-native|flutter|kotlin|swift|xamarin|unity")
_WEB = re.compile(r"analytics\.js|analytics-next|javascript|browser")
_CHANNELS = frozenset(c.value for c in Channel)


@lru_cache(maxsize=4096)
def snake_case(name: str) -> str:
    """``"Order Completed"`` -> ``order_completed``; ``"signupClicked"`` -> ``signup_clicked``."""
    return _NON_WORD.sub("_", _CAMEL.sub(r"\1_\2", name.strip()).lower()).strip("_")


def type_of(call: str, event: str | None) -> str:
    """ordito's event type: page -> page_view, screen -> screen_view, track -> the event's snake_case name
    (Segment spec events mapped by :data:`SEGMENT_EVENTS`), identify/group/alias as they are."""
    if call == "track" and event:
        snake = snake_case(event)
        return SEGMENT_EVENTS.get(snake, snake) or "track"
    return _CALL_EVENT.get(call, call)


def channel_of(call: str, context: dict[str, Any] | None) -> str:
    """The channel: an explicit ``context.channel`` naming an ordito channel wins; a mobile context (app, os,
    device, a mobile library) or a screen call is `app`; a browser context (page, userAgent, a web library)
    or a page call is `web`; anything else (server-side SDKs) is `other`."""
    if context:
        ch = context.get("channel")
        if ch is not None and type(ch) is str and ch.lower() in _CHANNELS:
            return ch.lower()
        if "app" in context or "os" in context or "device" in context:
            return "app"
        lib = context.get("library")
        if type(lib) is dict:
            lib_name = lib.get("name")
            if type(lib_name) is str:
                by_lib = _library_channel(lib_name)
                if by_lib is not None:
                    return by_lib
        if "page" in context or "userAgent" in context:
            return "web"
    return "app" if call == "screen" else "web" if call == "page" else "other"


@lru_cache(maxsize=1024)
def _library_channel(name: str) -> str | None:
    low = name.lower()
    if _MOBILE.search(low):
        return "app"
    if _WEB.search(low):
        return "web"
    return None


def _value(properties: dict[str, Any] | None) -> float | None:
    if not properties:
        return None
    for k in ("revenue", "total", "value"):
        v = properties.get(k)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return float(v)
        if type(v) is str:
            try:
                return float(v)
            except ValueError:
                continue
    return None


def _language(context: dict[str, Any] | None) -> str | None:
    loc = context.get("locale") if context else None
    return loc[:2].lower() if type(loc) is str and len(loc) >= 2 else None


def process(call: str, payload: dict[str, Any], received: dt.datetime) -> Result:
    """Check every message of a request body. ``call`` is the endpoint: a call type or ``batch``."""
    res = Result()
    if call in ("batch", "import"):
        messages = payload.get("batch")
        if not isinstance(messages, list):
            raise BadBody("a batch body needs a `batch` array of messages")
        try:
            batch_sent = parse_time(payload.get("sentAt"), "sentAt")
        except BadMessage as exc:
            raise BadBody(str(exc)) from None
        ctx = payload.get("context")
        batch_ctx = ctx if isinstance(ctx, dict) else None
        msg_call: str | None = None
    else:
        messages = [payload]
        batch_sent, batch_ctx, msg_call = None, None, call
    for i, msg in enumerate(messages):
        try:
            mid, line = normalise(msg, msg_call, received, batch_sent, batch_ctx)
        except BadMessage as exc:
            res.rejected.append(Rejected(i, _safe_id(msg), str(exc), _raw(msg)))
            continue
        res.accepted.append(Accepted(mid, line))
    return res


def _safe_id(msg: Any) -> str | None:
    if isinstance(msg, dict):
        v = msg.get("messageId")
        if isinstance(v, str | int) and not isinstance(v, bool):
            return str(v)[:200]
    return None


def _raw(msg: Any) -> str:
    if isinstance(msg, dict) and "writeKey" in msg:
        msg = {k: v for k, v in msg.items() if k != "writeKey"}
    try:
        return orjson.dumps(msg).decode()
    except TypeError:
        return repr(msg)
