"""The mapping that folds normalised Segment messages (see ``segment.LINE_FIELDS``) into ``events``.

It is an ordinary ordito mapping (``sources.mapping``), built per (source, user namespace) of a write key,
so the loader uses the same compiler, quarantine and idempotency as file ingestion:

- key ``messageId``: ``event_id = md5(source || chr(31) || messageId)``, so a retried message adds nothing;
- ``userId`` -> customer_id in the key's namespace, ``anonymousId`` -> anonymous_id, ``traits.email`` ->
  email, ``traits.phone`` -> phone (``traits`` of the line falls back to ``context.traits``); an alias also
  carries ``previousId`` (as customer_id and as anonymous_id: Segment does not say which one it was);
- channel, type, value, currency and language come from the ``ordito`` object the request handler adds to
  each line (``segment.channel_of`` / ``segment.type_of``): a few dictionary look-ups per message there
  instead of a dozen JSON parses per row here, which kept the loader slower than the API.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..sources.mapping import Mapping, parse_mapping

#: What ``events.properties`` keeps of each message (the whole message but what has its own column).
PROPERTIES = [
    "type",
    "event",
    "name",
    "category",
    "properties",
    "traits",
    "context",
    "integrations",
    "groupId",
    "originalTimestamp",
    "sentAt",
    "receivedAt",
    "extra",
]


def mapping_dict(source: str, namespace: str) -> dict[str, Any]:
    """The mapping as data (what a YAML file would hold)."""
    return {
        "source": source,
        "format": "jsonl",
        "description": "Segment tracking API messages received by `ordito serve`",
        "key": ["messageId"],
        "timestamp": {"column": "timestamp"},
        "event": {
            "channel": "ordito.channel",
            "type": "ordito.type",
            "value": "ordito.value",
            "currency": "ordito.currency",
            "language": "ordito.language",
        },
        "identifiers": [
            {"kind": "customer_id", "namespace": namespace, "column": "userId"},
            {"kind": "anonymous_id", "column": "anonymousId"},
            {"kind": "email", "column": "traits.email"},
            {"kind": "phone", "column": "traits.phone"},
            {"kind": "customer_id", "namespace": namespace, "column": "previousId"},
            {"kind": "anonymous_id", "column": "previousId"},
        ],
        "traits": {
            "name": "traits.name",
            "first_name": "traits.firstName",
            "last_name": "traits.lastName",
            "birth_date": "traits.birthday",
            "gender": "traits.gender",
            "city": "traits.address.city",
            "country": "traits.address.country",
        },
        "properties": PROPERTIES,
    }


@lru_cache(maxsize=256)
def segment_mapping(source: str, namespace: str) -> Mapping:
    """The mapping for one write key's (source, namespace)."""
    return parse_mapping(mapping_dict(source, namespace), origin=f"segment:{source}")
