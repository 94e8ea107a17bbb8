"""Pydantic models that document the tracking API in OpenAPI (``/docs``); never run on the hot path."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    userId: str | None = Field(None, description="Your id of the user; userId or anonymousId is required")
    anonymousId: str | None = Field(None, description="A device / cookie id when the user is not known")
    messageId: str | None = Field(
        None, description="Unique id of the message: a retry with the same messageId is stored once"
    )
    timestamp: str | None = Field(None, description="When it happened (ISO 8601); default: when received")
    sentAt: str | None = Field(None, description="When the client sent it (ISO 8601): corrects clock skew")
    context: dict[str, Any] | None = Field(
        None, description="Library, app, os, page, device, traits, locale..."
    )
    integrations: dict[str, Any] | None = None
    writeKey: str | None = Field(None, description="The write key, when not sent as HTTP Basic username")


class Track(_Message):
    event: str = Field(..., description="The action, e.g. `Order Completed`")
    properties: dict[str, Any] | None = None


class Identify(_Message):
    traits: dict[str, Any] | None = Field(None, description="email, phone, firstName, lastName, address...")


class Page(_Message):
    name: str | None = None
    category: str | None = None
    properties: dict[str, Any] | None = None


class Screen(Page):
    pass


class Group(_Message):
    groupId: str = Field(..., description="The group / account id")
    traits: dict[str, Any] | None = None


class Alias(_Message):
    previousId: str = Field(..., description="The previous id (a former userId or an anonymousId)")
    userId: str = Field(..., description="The new userId")


class Batch(BaseModel):
    model_config = ConfigDict(extra="allow")

    batch: list[dict[str, Any]] = Field(
        ..., description="Messages, each with its `type` (track, identify, page, screen, group, alias)"
    )
    sentAt: str | None = Field(None, description="When the batch was sent (ISO 8601)")
    context: dict[str, Any] | None = Field(None, description="Context merged into every message")
    writeKey: str | None = None


class Refusal(BaseModel):
    index: int
    messageId: str | None
    reason: str


class Accepted(BaseModel):
    success: bool = True
    ok: bool = True
    accepted: int = Field(..., description="Messages stored (retries of a stored message included)")
    rejected: list[Refusal] | None = Field(None, description="Refused messages (quarantined), if any")


class ErrorBody(BaseModel):
    ok: bool = False
    error: str
    errors: list[Any]
    status: int
    success: bool = False
    code: str = Field(..., description="Read by the Segment SDKs, e.g. invalid_request, unauthorized")
    message: str


_MODELS: dict[str, type[BaseModel]] = {
    "track": Track,
    "identify": Identify,
    "page": Page,
    "screen": Screen,
    "group": Group,
    "alias": Alias,
    "batch": Batch,
    "import": Batch,
}


def request_body(call: str) -> dict[str, Any]:
    schema = _MODELS[call].model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return {
        "requestBody": {
            "required": True,
            "description": "JSON, optionally with `Content-Encoding: gzip`; 32 KB per message, 500 KB per body",
            "content": {"application/json": {"schema": schema}},
        }
    }
