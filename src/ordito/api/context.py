"""Screen pop for telephony and chat integrations: ``GET /v1/context?phone=|email=|id=``.

Answers, for the identifier a contact arrives with, the customer (identifiers masked per the caller's
role, the contact's own in clear), their open episode (when the journeys stage built one) and the
context brief, plus the address of the customer's page in the web app. Needs an API token of a user
whose role may read context (``agent`` or ``admin``); every call is audit-logged.

* one customer: ``{"customer": {...}, "episode": ..., "brief": {...}, "url": "/customers/...?c=..."}``
* several (a shared family phone, the same number in two systems): ``{"customer": null, "candidates":
  [...]}`` (200: the integration shows a choice)
* none: 404 in the error envelope.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ..agent import brief as bf
from ..agent.auth import Principal
from ..agent.customer import customer_identifiers, customer_refs, header
from ..agent.security import CONTEXT_API, audit_api, state_of
from ..agent.views import contact_token, visible
from ..errors import NotFoundError, RequestError
from ..timeline import lookup


def _json(body: dict[str, Any]) -> Response:
    """orjson straight to bytes (datetimes as ISO 8601): the screen pop skips FastAPI's encoder."""
    return Response(orjson.dumps(body, default=str), media_type="application/json")


def router() -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["agent"])

    @r.get(
        "/context",
        summary="Screen pop: the customer, open episode and brief for an incoming contact",
        dependencies=[Depends(audit_api("context"))],
    )
    def context(
        request: Request,
        phone: str | None = None,
        email: str | None = None,
        id: str | None = Query(None, description="crm:104233, 104233 (any system), a cookie, a handle..."),
        suggest: bool = Query(False, description="also suggest knowledge articles for the need"),
        principal: Principal = Depends(CONTEXT_API),
    ) -> Response:
        given = [(k, v) for k, v in (("phone", phone), ("email", email), ("id", id)) if v]
        if len(given) != 1:
            raise RequestError("give exactly one of phone, email, id")
        kind, value = given[0]
        st = state_of(request)
        with st.engine() as eng:
            matches = lookup(eng, value, kind=kind)
            if not matches:
                raise NotFoundError(f"no customer for {kind} {value!r}")
            keys = sorted({m.customer_key for m in matches if m.customer_key})
            if len(keys) != 1:
                cands = sorted(set(keys) | {c for m in matches for c in m.candidates})
                names = (
                    dict(
                        eng.execute(
                            "SELECT customer_key, display_name FROM customers WHERE customer_key IN "
                            f"({', '.join('?' for _ in cands)})",
                            cands,
                        )
                    )
                    if cands
                    else {}
                )
                st.audit.record(
                    principal, "context_candidates", None, detail=f"n={len(cands)}", path=request.url.path
                )
                return _json(
                    {
                        "query": {kind: value},
                        "customer": None,
                        "ambiguous": True,
                        "candidates": [
                            {"customer_key": c, "display_name": names.get(c), "url": f"/customers/{c}"}
                            for c in cands[:50]
                        ],
                        "matches": [{"kind": m.kind, "status": m.status, "read_as": m.how} for m in matches],
                    }
                )
            key = keys[0]
            contact = {(m.kind, m.value) for m in matches if m.customer_key == key}
            refs = customer_refs(eng, key)
            # shared identifiers and value are on the customer's page (`url`), not in the screen pop: they
            # read every event of the customer
            idents = customer_identifiers(eng, key)
            head = header(
                eng, key, principal, contact, shared=False, refs=refs, value=False, identifiers=idents
            )
            last = max((int(r[0]) for r in refs), default=0)
            kb = st.knowledge() if suggest else None
            b: bf.Brief = st.cached(
                ("brief", key, last), lambda: bf.build(eng, key, refs=refs, identifiers=idents)
            )
            iid = next((m.identifier_id for m in matches if m.customer_key == key), None)
        st.audit.record(principal, "context_customer", key, path=request.url.path)
        out: dict[str, Any] = {
            "query": {kind: value},
            "customer": head,
            "episode": b.episode,
            "brief": visible(b, principal, contact).to_dict(),
            "url": f"/customers/{key}"
            + (f"?c={contact_token(st, key, int(iid))}" if iid is not None else ""),
        }
        if kb is not None and b.words:
            out["suggestions"] = kb.suggest(" ".join(w.text for w in b.words[:3]), b.language, k=3)
        return _json(out)

    return r
