"""The canonical vocabulary every stage shares: channels, event types, identifier kinds.

Sources map their own words onto these. Unknown event types are allowed (a source may have its own), but
channels and identifier kinds are closed sets, because identity and journey logic depend on them.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    WEB = "web"
    APP = "app"
    EMAIL = "email"
    CHAT = "chat"
    SMS = "sms"
    VOICE = "voice"
    SOCIAL = "social"
    STORE = "store"
    SURVEY = "survey"
    REVIEW = "review"
    OTHER = "other"


#: Channels where a person of the brand takes part (DOMAIN.md: assisted vs self-service).
ASSISTED_CHANNELS = frozenset({Channel.VOICE, Channel.CHAT, Channel.EMAIL, Channel.STORE, Channel.SOCIAL})
SELF_SERVICE_CHANNELS = frozenset({Channel.WEB, Channel.APP})


class IdentifierKind(StrEnum):
    """Kinds of identifier. ``customer_id``, ``loyalty_id`` and ``handle`` are namespaced by system."""

    EMAIL = "email"
    PHONE = "phone"
    CUSTOMER_ID = "customer_id"  # an account/customer id in one system: crm:123, shop:S-9
    LOYALTY_ID = "loyalty_id"  # a loyalty card number
    ANONYMOUS_ID = "anonymous_id"  # cookie / device / anonymous SDK id
    HANDLE = "handle"  # social handle, namespaced by platform: twitter:@maria


NAMESPACED_KINDS = frozenset({IdentifierKind.CUSTOMER_ID, IdentifierKind.LOYALTY_ID, IdentifierKind.HANDLE})

#: Well-known event types. Sources may use others; these are the ones later stages interpret.
EVENT_TYPES = frozenset(
    {
        # web / app
        "page_view",
        "screen_view",
        "search",
        "login",
        "login_failed",
        "signup",
        "form_submitted",
        "form_error",
        "contact_page",
        "add_to_cart",
        "cart_abandoned",
        "checkout_started",
        "identify",
        "track",
        "alias",
        "group",
        # orders
        "order_placed",
        "order_shipped",
        "order_delivered",
        "delivery_failed",
        "order_cancelled",
        "order_returned",
        "refund_issued",
        # contact centre
        "call_started",
        "call_transferred",
        "call_abandoned",
        "call_ended",
        "ivr",
        # chat / email / sms
        "chat_started",
        "chat_message",
        "chat_ended",
        "chat_abandoned",
        "email_received",
        "email_sent",
        "sms_received",
        "sms_sent",
        # CRM
        "ticket_opened",
        "repair_job_opened",
        "warranty_registered",
        "ticket_updated",
        "ticket_transferred",
        "ticket_resolved",
        "ticket_reopened",
        "ticket_closed",
        # store, survey, social
        "store_visit",
        "store_purchase",
        "store_return",
        "service_desk",
        "survey_response",
        "review_posted",
        "social_post",
        "social_message",
    }
)

DIRECTIONS = frozenset({"inbound", "outbound", "internal"})

#: Person attributes a record may carry (used for display now and probabilistic linking later).
TRAIT_FIELDS = (
    "name",
    "first_name",
    "last_name",
    "birth_date",
    "address",
    "postcode",
    "city",
    "country",
    "language",
    "gender",
    "company",
)

#: Canonical event fields a mapping may fill (besides identifiers and traits).
EVENT_FIELDS = (
    "channel",
    "type",
    "occurred_at",
    "department",
    "agent_id",
    "queue",
    "thread_id",
    "direction",
    "text",
    "language",
    "value",
    "currency",
)
