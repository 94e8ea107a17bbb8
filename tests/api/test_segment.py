"""The pure part: message checks, skew correction, ordito's reading of a message."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from ordito.api.segment import BadBody, channel_of, process, snake_case, type_of

NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


def line(msg: dict, call: str = "track") -> dict:
    res = process(call, msg, NOW)
    assert not res.rejected, res.rejected
    return orjson.loads(res.accepted[0].line)


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("Order Completed", "order_completed"),
        ("signupClicked", "signup_clicked"),
        ("  Video  Played!! ", "video_played"),
        ("checkout-step_2", "checkout_step_2"),
    ],
)
def test_snake_case(name: str, want: str) -> None:
    assert snake_case(name) == want


def test_type_of_maps_the_ecommerce_spec() -> None:
    assert type_of("track", "Order Completed") == "order_placed"
    assert type_of("track", "Product Added") == "add_to_cart"
    assert type_of("track", "Signed In") == "login"
    assert type_of("track", "Video Played") == "video_played"
    assert type_of("page", None) == "page_view"
    assert type_of("screen", "Home") == "screen_view"
    assert type_of("identify", None) == "identify"
    assert type_of("track", "!!!") == "track"


def test_channel_of() -> None:
    assert channel_of("track", {"app": {"name": "x"}}) == "app"
    assert channel_of("track", {"os": {"name": "iOS"}}) == "app"
    assert channel_of("track", {"library": {"name": "analytics-ios"}}) == "app"
    assert channel_of("track", {"library": {"name": "analytics.js"}}) == "web"
    assert channel_of("track", {"page": {"url": "https://x"}}) == "web"
    assert channel_of("track", {"library": {"name": "analytics-python"}}) == "other"
    assert channel_of("track", {"channel": "Store"}) == "store"
    assert channel_of("page", None) == "web"
    assert channel_of("screen", None) == "app"
    assert channel_of("identify", None) == "other"


def test_skew_correction() -> None:
    # the client clock is 1 h ahead: it stamped 12:59:50 and sent at 13:00:00, we received at 12:00:00
    out = line(
        {"userId": "u", "event": "e", "timestamp": "2024-05-01T12:59:50Z", "sentAt": "2024-05-01T13:00:00Z"}
    )
    assert out["timestamp"] == "2024-05-01T11:59:50Z"
    assert out["originalTimestamp"] == "2024-05-01T12:59:50Z"
    assert out["receivedAt"] == "2024-05-01T12:00:00Z"


def test_batch_sent_at_applies_to_messages_and_offsets_are_read() -> None:
    res = process(
        "batch",
        {
            "sentAt": "2024-05-01T14:00:00+02:00",
            "batch": [
                {"type": "track", "userId": "u", "event": "e", "timestamp": "2024-05-01T13:59:00+02:00"}
            ],
        },
        NOW,
    )
    assert orjson.loads(res.accepted[0].line)["timestamp"] == "2024-05-01T11:59:00Z"


def test_timestamps_without_sent_at_or_at_all() -> None:
    assert (
        line({"userId": "u", "event": "e", "timestamp": "2020-01-02T03:04:05"})["timestamp"]
        == "2020-01-02T03:04:05Z"
    )
    assert line({"userId": "u", "event": "e"})["timestamp"] == "2024-05-01T12:00:00Z"


@pytest.mark.parametrize(
    ("call", "msg", "reason"),
    [
        ("track", {"userId": "u"}, "track needs an event name"),
        ("track", {"event": "e"}, "needs a userId or an anonymousId"),
        ("identify", {"userId": True}, "userId must be a string"),
        ("alias", {"userId": "u"}, "alias needs both previousId and userId"),
        ("group", {"userId": "u"}, "group needs a groupId"),
        ("page", {"userId": "u", "properties": [1]}, "properties must be an object"),
        ("track", {"userId": "u", "event": "e", "timestamp": "yesterday"}, "is not an ISO 8601 date"),
        (
            "track",
            {"userId": "u", "event": "e", "properties": {"x": "y" * 40_000}},
            "exceeds the limit of 32768",
        ),
    ],
)
def test_bad_messages_are_refused_with_a_reason(call: str, msg: dict, reason: str) -> None:
    res = process(call, msg, NOW)
    assert not res.accepted
    assert reason in res.rejected[0].reason


def test_batch_keeps_good_messages_and_refuses_bad_ones() -> None:
    res = process(
        "batch",
        {
            "batch": [
                {"type": "track", "userId": "u", "event": "e"},
                {"type": "nope"},
                3,
                {"type": "identify", "anonymousId": 9},
            ]
        },
        NOW,
    )
    assert [a.message_id[:7] for a in res.accepted] == ["ordito-", "ordito-"]
    assert [r.index for r in res.rejected] == [1, 2]
    with pytest.raises(BadBody):
        process("batch", {"batch": {"type": "track"}}, NOW)


def test_line_shape_and_fallbacks() -> None:
    out = line(
        {
            "anonymousId": 42,
            "messageId": "m-1",
            "context": {"traits": {"email": "a@b.it"}, "locale": "it-IT"},
            "writeKey": "secret",
            "custom": 1,
        },
        "identify",
    )
    assert out["anonymousId"] == "42"
    assert out["traits"] == {"email": "a@b.it"}  # RudderStack puts identify traits in the context
    assert out["extra"] == {"custom": 1}
    assert "secret" not in orjson.dumps(out).decode()
    assert out["ordito"] == {
        "channel": "other",
        "type": "identify",
        "value": None,
        "currency": None,
        "language": "it",
    }
