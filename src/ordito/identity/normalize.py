"""Normalise identifier values: one canonical string per real-world identifier.

Pure functions (no engine), applied once per distinct raw value and cached in ``identifier_norm``.

==============  ==================================================================================
kind            canonical form
==============  ==================================================================================
email           trimmed, lower-cased, ``mailto:``/angle brackets removed; Gmail local parts without
                dots and ``+tags`` (Gmail delivers them to the same mailbox); syntax checked
phone           E.164 (``+393331234567``) via ``phonenumbers`` with the source's default region;
                ``possible`` numbers are kept (``valid`` is reported), withheld numbers rejected
customer_id     ``namespace:value`` (trimmed): ``crm:104233`` is not ``shop:104233``
loyalty_id      ``namespace:DIGITS`` (spaces, dashes, dots removed, upper-cased)
anonymous_id    ``namespace:value`` when a namespace is given, else the value
handle          ``platform:@name`` lower-cased (``twitter:@mario_r``); the platform comes from a
                ``platform:`` prefix in the value, else the namespace
==============  ==================================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

_EMAIL_RE = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
_GMAIL = frozenset({"gmail.com", "googlemail.com"})
_E164_RE = re.compile(r"^\+[1-9]\d{7,14}$")
#: a number written with some digits hidden ("333 *** 4567", "+39 333 xxx 4567", "•••• 4567"): its visible
#: digits are not a number (phonenumbers would read "3334567"), and two people share them easily
MASKED_RE = re.compile(r"[*•]|[xX]{2,}")
MASKED_REASON = "masked number (some digits hidden): not an identifier"
_WITHHELD = frozenset(
    {
        "anonymous",
        "anonimo",
        "private",
        "privato",
        "unknown",
        "sconosciuto",
        "withheld",
        "restricted",
        "unavailable",
        "n/a",
        "na",
        "none",
        "null",
        "-",
    }
)


@dataclass(frozen=True)
class Normalized:
    value: str | None
    valid: bool
    reason: str | None = None


def _bad(reason: str) -> Normalized:
    return Normalized(None, False, reason)


def email(raw: str) -> Normalized:
    s = raw.strip().strip("<>\"' ").lower()
    if s.startswith("mailto:"):
        s = s[7:]
    if not s:
        return _bad("empty")
    if "@" not in s:
        return _bad("not an email address: no @")
    local, _, domain = s.rpartition("@")
    domain = domain.rstrip(".")
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in _GMAIL:
        local = local.split("+", 1)[0].replace(".", "")
    out = f"{local}@{domain}"
    if len(out) > 254 or not _EMAIL_RE.match(out):
        return _bad("not an email address: invalid syntax")
    return Normalized(out, True)


def phone(raw: str, region: str | None) -> Normalized:
    s = raw.strip()
    if not s:
        return _bad("empty")
    if s.lower() in _WITHHELD:
        return _bad("withheld or unknown number")
    if MASKED_RE.search(s):
        return _bad(MASKED_REASON)
    compact = re.sub(r"[\s\-./()]", "", s)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if _E164_RE.match(compact) and not compact.startswith("+440"):
        # already international (Italian numbers keep their leading 0: +39 02 ...); the UK trunk zero
        # written as "+44 (0)..." goes through phonenumbers
        return Normalized(compact, True)
    try:
        n = phonenumbers.parse(s, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        if not region and not s.lstrip().startswith(("+", "00")):
            return _bad("not international and the source declares no phone region")
        return _bad("not a phone number")
    if not phonenumbers.is_possible_number(n):
        return _bad("not a possible phone number for its country")
    return Normalized(phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164), True)


def namespaced(raw: str, namespace: str) -> Normalized:
    s = raw.strip()
    if not s:
        return _bad("empty")
    if len(s) > 256:
        return _bad("longer than 256 characters")
    return Normalized(f"{namespace}:{s}" if namespace else s, True)


def loyalty(raw: str, namespace: str) -> Normalized:
    s = re.sub(r"[\s\-./]", "", raw.strip()).upper()
    if not s:
        return _bad("empty")
    return Normalized(f"{namespace}:{s}", True)


def handle(raw: str, namespace: str) -> Normalized:
    s = raw.strip().lower()
    platform = namespace.lower()
    m = re.match(r"^([a-z][a-z0-9_.-]*):(.+)$", s)
    if m and not s.startswith("http"):
        platform, s = m.group(1), m.group(2)
    s = s.strip().lstrip("@")
    if not s or re.search(r"\s", s):
        return _bad("not a handle")
    return Normalized(f"{platform}:@{s}", True)


def normalize(kind: str, raw: str, namespace: str = "", region: str | None = None) -> Normalized:
    if kind == "email":
        return email(raw)
    if kind == "phone":
        return phone(raw, region)
    if kind == "loyalty_id":
        return loyalty(raw, namespace)
    if kind == "handle":
        return handle(raw, namespace)
    if kind in ("customer_id", "anonymous_id"):
        return namespaced(raw, namespace)
    return _bad(f"unknown identifier kind {kind}")


# --- values that identify nobody -------------------------------------------------------------------

#: Local parts of role mailboxes: a team's address, not a person's.
ROLE_LOCAL_PARTS = frozenset(
    [
        "info",
        "informazioni",
        "admin",
        "administrator",
        "amministrazione",
        "office",
        "ufficio",
        "contact",
        "contatti",
        "contacts",
        "sales",
        "vendite",
        "support",
        "supporto",
        "assistenza",
        "helpdesk",
        "help",
        "hello",
        "ciao",
        "team",
        "staff",
        "segreteria",
        "secretary",
        "reception",
        "accounts",
        "accounting",
        "contabilita",
        "billing",
        "fatture",
        "fatturazione",
        "invoice",
        "invoices",
        "orders",
        "ordini",
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "postmaster",
        "webmaster",
        "hr",
        "marketing",
        "commerciale",
        "direzione",
        "management",
        "enquiries",
        "enquiry",
        "general",
        "mail",
        "posta",
    ]
)

_PLACEHOLDER_EMAIL_LOCAL = frozenset(
    {
        "noemail",
        "no-email",
        "nomail",
        "no",
        "none",
        "nessuna",
        "nessuno",
        "test",
        "example",
        "email",
        "fake",
        "null",
        "na",
        "n.a",
        "x",
        "xx",
        "xxx",
        "anonymous",
        "unknown",
        "sconosciuto",
        "prova",
    }
)
_PLACEHOLDER_EMAIL_DOMAINS = frozenset(
    {
        "example.com",
        "example.org",
        "test.com",
        "email.com",
        "noemail.com",
        "nomail.com",
        "mail.com.invalid",
        "no.it",
        "none.com",
    }
)


def placeholder_reason(kind: str, value: str) -> str | None:
    """Why a canonical value is a placeholder that identifies nobody (or None)."""
    if kind == "phone":
        digits = value.lstrip("+")
        try:
            cc = str(phonenumbers.parse(value).country_code)
        except phonenumbers.NumberParseException:
            cc = ""
        national = digits[len(cc) :] if cc and digits.startswith(cc) else digits
        if len(set(national)) <= 1:
            return "placeholder number (one digit repeated)"
        if national in "01234567890123456789" or national in "98765432109876543210":
            return "placeholder number (a digit sequence)"
        if national.count("0") >= len(national) - 1:
            return "placeholder number (zeros)"
        return None
    if kind == "email":
        local, _, domain = value.partition("@")
        if local in _PLACEHOLDER_EMAIL_LOCAL or domain in _PLACEHOLDER_EMAIL_DOMAINS:
            return "placeholder address (typed when the customer gave none)"
        if domain.endswith((".invalid", ".test", ".example", ".localhost")):
            return "placeholder address (reserved test domain)"
        return None
    if kind in ("customer_id", "loyalty_id", "anonymous_id"):
        v = value.split(":", 1)[-1]
        if kind == "customer_id" and v.strip("0") == "":
            return "placeholder id (zeros)"
        if v.lower() in {"unknown", "null", "none", "n/a", "-", "undefined", "anonymous"}:
            return "placeholder id"
    return None


def role_reason(kind: str, value: str) -> str | None:
    if kind != "email":
        return None
    local = value.split("@", 1)[0]
    base = re.split(r"[.+_-]", local)[0]
    if local in ROLE_LOCAL_PARTS or base in ROLE_LOCAL_PARTS and len(local) <= len(base) + 3:
        return f"role mailbox ({local}@): a team's address, not a person's"
    return None
