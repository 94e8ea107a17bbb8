"""The agent workspace pages: search, the customer (header, brief, suggestions, timeline), live updates.

Every read of a customer is audit-logged. The identifier a contact came with travels in the URL as a
signed token bound to the customer and identifier (``c=``), so the agent sees that identifier in clear and the others masked, and
cannot unmask another one by editing the URL.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from ..errors import NotFoundError
from ..store.duckdb import DuckDBEngine
from ..store.sqlutil import ints
from ..timeline import current_key, lookup, timeline
from . import brief as bf
from .auth import Principal
from .customer import contact_of, episodes_of, header, unmasked
from .mask import mask_text, mask_value
from .security import READ_PAGE, SEARCH_PAGE, client_of, state_of
from .shell import render
from .state import AgentState

TIMELINE_PAGE = 40


# --- the contact token --------------------------------------------------------------------------------


def contact_token(st: AgentState, key: str, identifier_id: int) -> str:
    """``<identifier id>.<mac>``: names the identifier a contact came with, for this customer only."""
    mac = st.authority.sign(f"c:{key}:{int(identifier_id)}").rpartition(".")[2][:22]
    return f"{int(identifier_id)}.{mac}"


def contact_from(st: AgentState, key: str, token: str | None) -> int | None:
    if not token or "." not in token:
        return None
    iid, _, mac = token.partition(".")
    if not iid.isdigit():
        return None
    good = contact_token(st, key, int(iid)).partition(".")[2]
    return int(iid) if hmac.compare_digest(good, mac) else None


def _contact(
    st: AgentState, eng: DuckDBEngine, principal: Principal, key: str, c: str | None
) -> set[tuple[str, str]]:
    iid = contact_from(st, key, c)
    found = contact_of(eng, iid) if iid is not None else None
    return {found} if found else set()


def _audit(
    request: Request, principal: Principal, action: str, key: str | None, detail: str | None = None
) -> None:
    state_of(request).audit.record(
        principal, action, key, detail=detail, client=client_of(request), path=request.url.path
    )


# --- presenting events ---------------------------------------------------------------------------------


def present(
    items: list[dict[str, Any]], principal: Principal, contact: set[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Timeline items for display: texts with foreign identifiers masked, ``via`` masked per role."""
    keep = {v for _, v in contact}
    clear = unmasked(principal)
    out = []
    for it in items:
        d = dict(it)
        text = bf._text(d)
        if text and not clear:
            text = mask_text(text, keep)
        d["display_text"] = text
        via = d.setdefault("via", None)
        if via and not clear:
            kind, _, value = str(via).partition(" ")
            d["via"] = (
                f"{kind} {value if (kind, value) in contact and principal.role == 'agent' else mask_value(kind, value)}"
            )
        d["label"] = str(d.get("type") or "").replace("_", " ")
        out.append(d)
    return out


def visible(b: bf.Brief, principal: Principal, contact: set[tuple[str, str]]) -> bf.Brief:
    """The brief as this role may see it: identifiers in free text masked but the contact's (agents)."""
    if unmasked(principal):
        return b
    keep = {v for _, v in contact} if principal.role == "agent" else set()
    return bf.masked(b, lambda t: mask_text(t, keep))


def _timeline_items(eng: DuckDBEngine, key: str, seqs: list[int]) -> list[dict[str, Any]]:
    if not seqs:
        return []
    rows = eng.records(
        f"""SELECT e.seq, e.event_id::VARCHAR AS event_id, e.occurred_at, e.source, e.source_key, e.channel, e.type,
                   e.department, e.agent_id, e.queue, e.thread_id, e.direction, e.text, e.language, e.value,
                   e.currency, e.properties::VARCHAR AS properties
            FROM events e WHERE e.seq IN ({ints(seqs)})"""
    )
    rows.sort(key=lambda r: (r["occurred_at"], r["seq"]), reverse=True)
    return rows


def _with_props(eng: DuckDBEngine, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The timeline API leaves out ``properties``; live API events keep their text there."""
    missing = [it["seq"] for it in items if not it.get("text")]
    if not missing:
        return items
    props = dict(eng.execute(f"SELECT seq, properties::VARCHAR FROM events WHERE seq IN ({ints(missing)})"))
    for it in items:
        if it["seq"] in props:
            it["properties"] = props[it["seq"]]
    return items


def _filters(channel: list[str] | None, department: list[str] | None, c: str | None) -> str:
    q: list[tuple[str, str]] = [("channel", x) for x in channel or []] + [
        ("department", x) for x in department or []
    ]
    if c:
        q.append(("c", c))
    return urlencode(q)


# --- routes --------------------------------------------------------------------------------------------


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/")
    def home(request: Request, principal: Principal = Depends(SEARCH_PAGE)) -> Response:
        st = state_of(request)
        st.audit.flush()
        with st.engine() as eng:
            recent = eng.records(
                """SELECT a.customer_key, max(a.logged_at) AS at, any_value(c.display_name) AS display_name
                   FROM audit_log a LEFT JOIN customers c USING (customer_key)
                   WHERE a.logged_at > ? AND a.user_name = ? AND a.action = 'view_customer'
                     AND a.customer_key IS NOT NULL
                   GROUP BY 1 ORDER BY 2 DESC LIMIT 8""",
                [_days_ago(7), principal.name],  # the log only grows: its recent end is read
            )
        return render(request, "home.html", {"q": "", "results": None, "recent": recent})

    @r.get("/search")
    def search(request: Request, q: str = "", principal: Principal = Depends(SEARCH_PAGE)) -> Response:
        st = state_of(request)
        q = q.strip()[:200]
        results: list[dict[str, Any]] = []
        if q:
            with st.engine() as eng:
                results = _search(st, eng, principal, q)
            hint = mask_value("phone" if q[:1] in "+0123456789(" else "email" if "@" in q else "id", q)
            _audit(request, principal, "search", None, f"q={hint} hits={len(results)}")
            for res in results:
                _audit(request, principal, "search_hit", res["customer_key"])
        htmx = request.headers.get("hx-request") == "true"
        if not htmx and len(results) == 1 and not results[0]["shared"]:
            return RedirectResponse(results[0]["url"], status_code=303)
        tpl = "_results.html" if htmx else "home.html"
        return render(request, tpl, {"q": q, "results": results, "recent": []})

    @r.get("/customers/{key}")
    def customer_page(
        request: Request, key: str, c: str | None = None, principal: Principal = Depends(READ_PAGE)
    ) -> Response:
        st = state_of(request)
        with st.engine() as eng:
            cur = current_key(eng, key)
            if cur is None:
                raise NotFoundError(f"No customer {key}")
            if cur != key:
                iid = contact_from(st, key, c)
                nc = contact_token(st, cur, iid) if iid is not None else None
                return RedirectResponse(f"/customers/{cur}" + (f"?c={nc}" if nc else ""), status_code=303)
            contact = _contact(st, eng, principal, cur, c)
            head = header(eng, cur, principal, contact)
            raw = _brief(st, eng, cur)
            b = visible(raw, principal, contact)
            tl = timeline(eng, cur, limit=TIMELINE_PAGE)
            items = present(_with_props(eng, tl["items"]), principal, contact)
            last_seq = eng.scalar("SELECT max(seq) FROM event_customer WHERE customer_key = ?", [cur]) or 0
            suggestions = _suggest(st, raw)
            episodes = episodes_of(eng, cur)
        _audit(request, principal, "view_customer", cur, f"contact={'yes' if contact else 'no'}")
        return render(
            request,
            "customer.html",
            {
                "h": head,
                "b": b,
                "bd": b.to_dict(),
                "items": items,
                "next_cursor": tl["next_cursor"],
                "last_seq": int(last_seq),
                "c": c or "",
                "filters": _filters(None, None, c),
                "channels": [x["channel"] for x in head["channels"]],
                "departments": head["departments"],
                "sel_channels": [],
                "sel_departments": [],
                "suggestions": suggestions,
                "episodes": episodes,
            },
        )

    @r.get("/customers/{key}/timeline")
    def timeline_part(
        request: Request,
        key: str,
        c: str | None = None,
        cursor: str | None = None,
        channel: list[str] | None = Query(None),
        department: list[str] | None = Query(None),
        principal: Principal = Depends(READ_PAGE),
    ) -> Response:
        st = state_of(request)
        channel = [x for x in channel or [] if x]
        department = [x for x in department or [] if x]
        with st.engine() as eng:
            cur = _cur(eng, key)
            contact = _contact(st, eng, principal, cur, c)
            tl = timeline(
                eng,
                cur,
                limit=TIMELINE_PAGE,
                cursor=cursor,
                channels=channel or None,
                departments=department or None,
            )
            items = present(_with_props(eng, tl["items"]), principal, contact)
        _audit(request, principal, "view_timeline", cur, _filters(channel, department, None) or None)
        return render(
            request,
            "_timeline.html",
            {
                "key": cur,
                "items": items,
                "next_cursor": tl["next_cursor"],
                "filters": _filters(channel, department, c),
                "append": cursor is not None,
            },
        )

    @r.get("/customers/{key}/new")
    def new_events(
        request: Request,
        key: str,
        after: int = 0,
        c: str | None = None,
        channel: list[str] | None = Query(None),
        department: list[str] | None = Query(None),
        principal: Principal = Depends(READ_PAGE),
    ) -> Response:
        """Live updates, polled by the page: 204 while nothing is new; else the new events (newest first),
        the page's new high-water mark and an ``ordito:new-events`` trigger (the brief refreshes on it)."""
        st = state_of(request)
        channel = [x for x in channel or [] if x]
        department = [x for x in department or [] if x]
        with st.engine() as eng:
            cur = current_key(eng, key)
            if cur is None:
                raise NotFoundError(f"No customer {key}")
            if cur != key:  # merged into another customer meanwhile: follow it
                return Response(status_code=200, headers={"HX-Redirect": f"/customers/{cur}"})
            last = int(eng.scalar("SELECT max(seq) FROM event_customer WHERE customer_key = ?", [cur]) or 0)
            if last <= after:
                return Response(status_code=204)
            refs = eng.execute(
                "SELECT seq, channel, department FROM event_customer WHERE customer_key = ? AND seq > ?",
                [cur, after],
            )
            refs = [
                x for x in refs if (not channel or x[1] in channel) and (not department or x[2] in department)
            ]
            contact = _contact(st, eng, principal, cur, c)
            items = present(_timeline_items(eng, cur, [int(x[0]) for x in refs[-200:]]), principal, contact)
        if items:
            _audit(request, principal, "view_new_events", cur, f"n={len(items)}")
        trigger = orjson.dumps({"ordito:new-events": {"after": after, "last": last}}).decode()
        return render(
            request,
            "_timeline_new.html",
            {"key": cur, "items": items, "last_seq": last},
            headers={"HX-Trigger": trigger},
        )

    @r.get("/customers/{key}/brief")
    def brief_part(
        request: Request, key: str, c: str | None = None, principal: Principal = Depends(READ_PAGE)
    ) -> Response:
        st = state_of(request)
        with st.engine() as eng:
            cur = _cur(eng, key)
            contact = _contact(st, eng, principal, cur, c)
            raw = _brief(st, eng, cur)
            suggestions = _suggest(st, raw)
            b = visible(raw, principal, contact)
        _audit(request, principal, "view_brief", cur)
        return render(
            request, "_brief.html", {"b": b, "bd": b.to_dict(), "key": cur, "suggestions": suggestions}
        )

    @r.get("/customers/{key}/event/{seq}")
    def one_event(
        request: Request, key: str, seq: int, c: str | None = None, principal: Principal = Depends(READ_PAGE)
    ) -> Response:
        st = state_of(request)
        with st.engine() as eng:
            cur = _cur(eng, key)
            owner = eng.scalar("SELECT customer_key FROM event_customer WHERE seq = ?", [seq])
            if owner != cur:
                raise NotFoundError(f"No event {seq} for this customer")
            contact = _contact(st, eng, principal, cur, c)
            items = present(_timeline_items(eng, cur, [seq]), principal, contact)
        _audit(request, principal, "view_event", cur, f"seq={seq}")
        return render(request, "_event.html", {"it": items[0], "key": cur})

    return r


def _days_ago(days: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=days)


def _cur(eng: DuckDBEngine, key: str) -> str:
    cur = current_key(eng, key)
    if cur is None:
        raise NotFoundError(f"No customer {key}")
    return cur


def _brief(st: AgentState, eng: DuckDBEngine, key: str) -> bf.Brief:
    last = eng.scalar("SELECT max(seq) FROM event_customer WHERE customer_key = ?", [key])
    kb = st.knowledge()
    suggest = kb.suggest_titles if kb is not None else None
    result: bf.Brief = st.cached(("brief", key, last), lambda: bf.build(eng, key, suggest=suggest))
    return result


def _suggest(st: AgentState, b: bf.Brief) -> list[dict[str, Any]]:
    kb = st.knowledge()
    if kb is None or not b.words:
        return []
    query = " ".join(w.text for w in b.words[:3])
    hits: list[dict[str, Any]] = st.cached(
        ("kb", query, b.language), lambda: kb.suggest(query, b.language, k=3)
    )
    return hits


def _search(st: AgentState, eng: DuckDBEngine, principal: Principal, q: str) -> list[dict[str, Any]]:
    matches = lookup(eng, q)
    out: dict[str, dict[str, Any]] = {}
    shared: list[dict[str, Any]] = []
    for m in matches:
        iid = eng.scalar(
            "SELECT identifier_id FROM identifiers WHERE kind = ? AND value = ?", [m.kind, m.value]
        )
        if m.customer_key:
            if m.customer_key not in out:
                token = contact_token(st, m.customer_key, int(iid)) if iid is not None else None
                out[m.customer_key] = {
                    "customer_key": m.customer_key,
                    "how": m.how,
                    "kind": m.kind,
                    "shared": False,
                    "url": f"/customers/{m.customer_key}" + (f"?c={token}" if token else ""),
                }
        else:
            for ck in m.candidates[:20]:
                shared.append(
                    {
                        "customer_key": ck,
                        "how": f"{m.how} — {m.status}: shared by {len(m.candidates)} customers",
                        "kind": m.kind,
                        "shared": True,
                        "url": f"/customers/{ck}",
                    }
                )
    results = list(out.values()) + [s for s in shared if s["customer_key"] not in out]
    if results:
        keys = ", ".join(f"'{r['customer_key']}'" for r in results if "'" not in r["customer_key"])
        info = {
            r["customer_key"]: r
            for r in eng.records(
                f"SELECT customer_key, display_name, n_events, last_seen FROM customers WHERE customer_key IN ({keys})"
            )
        }
        for res in results:
            res.update({k: v for k, v in info.get(res["customer_key"], {}).items() if k != "customer_key"})
    return results
