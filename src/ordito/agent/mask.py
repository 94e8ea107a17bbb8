"""Masking identifiers: an agent sees in clear only what the contact needs.

The identifier the contact came with (the phone that called, the email typed in the search) is shown
as it is; every other identifier keeps just enough to confirm it with the customer ("the email starting
ma… at gmail.com?", "the number ending 67?"). Analysts see everything masked; admins see it all in clear.

Examples:
    >>> mask_value("email", "mario.rossi@gmail.com")
    'ma•••@gmail.com'
    >>> mask_value("phone", "+393331234567")
    '+39 ••• ••• ••67'
    >>> mask_value("customer_id", "crm:104233")
    'crm:•••233'
"""

from __future__ import annotations

import re

DOT = "•••"

_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# +39 333 1234567, 0039..., 333 123 4567, 07712 345678: 9+ digits with spaces, dots or dashes between
_PHONE_IN_TEXT = re.compile(r"(?<![\w-])(?:\+|00)?\d(?:[ .\-]?\d){8,13}(?![\w-])")


def mask_value(kind: str, value: str) -> str:
    """The masked form of a canonical identifier value."""
    if not value:
        return value
    if kind == "email" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:2]}{DOT}@{domain}"
    if kind == "phone":
        digits = value.lstrip("+")
        cc = ""
        if value.startswith("+"):
            cc = "+" + (digits[:2] if digits[:1] != "1" else "1") + " "
        return f"{cc}{DOT} {DOT} ••{value[-2:]}"
    ns, sep, rest = value.rpartition(":")
    if sep and kind in ("customer_id", "loyalty_id", "handle"):
        if kind == "handle":
            return f"{ns}:{rest[:3]}{DOT}"
        return f"{ns}:{DOT}{rest[-3:]}"
    if kind == "anonymous_id":
        return f"{value[:6]}{DOT}"
    return f"{value[:2]}{DOT}{value[-2:]}" if len(value) > 6 else DOT


def mask_text(text: str, keep: set[str] | None = None) -> str:
    """Mask email addresses and phone numbers written inside free text (notes, messages), except those in
    ``keep`` (canonical values, e.g. the contact's own)."""
    keep = keep or set()

    def email(m: re.Match[str]) -> str:
        v = m.group(0)
        return v if v.lower() in keep else mask_value("email", v.lower())

    def phone(m: re.Match[str]) -> str:
        v = m.group(0)
        digits = re.sub(r"\D", "", v)
        if any(k.lstrip("+").endswith(digits[-9:]) for k in keep if k.startswith("+")):
            return v
        return f"{DOT} ••{digits[-2:]}"

    return _PHONE_IN_TEXT.sub(phone, _EMAIL_IN_TEXT.sub(email, text))
