"""Who may see what, over HTTP: write keys for tracking, tokens and sessions for reads, every read audited,
identifiers masked for agents beyond the contact's, secrets never logged."""

from __future__ import annotations

import logging

import pytest

from tests.agent.conftest import PASSWORD, AgentApi

pytestmark = pytest.mark.anyio


async def test_tracking_still_takes_write_keys_and_only_them(agent_api: AgentApi) -> None:
    msg = {"type": "track", "userId": "1", "event": "Ping", "messageId": "p1"}
    r = await agent_api.client.post("/v1/track", json=msg, auth=(agent_api.write_key, ""))
    assert r.status_code == 200 and r.json()["ok"] is True
    r = await agent_api.client.post("/v1/track", json=msg, headers=agent_api.bearer("root"))
    assert r.status_code == 401  # an API token is not a write key


async def test_reads_need_credentials_and_the_right_role(agent_api: AgentApi) -> None:
    c = agent_api.client
    r = await c.get("/v1/context", params={"phone": "0039 333 1234567"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = await c.get(
        "/v1/context", params={"phone": "0039 333 1234567"}, headers={"Authorization": "Bearer ordt_nope"}
    )
    assert r.status_code == 401
    # the raw customer API shows identifiers in clear: admins only
    r = await c.get("/v1/customers/lookup", params={"phone": "3331234567"}, headers=agent_api.bearer("pbx"))
    assert r.status_code == 403 and r.json()["ok"] is False
    r = await c.get("/v1/customers/lookup", params={"phone": "3331234567"}, headers=agent_api.bearer("root"))
    assert r.status_code == 200 and r.json()["customer_keys"] == [agent_api.customer_key()]
    assert (await c.get("/v1/customers/lookup", params={"phone": "3331234567"})).status_code == 401


async def test_screen_pop_masks_all_but_the_contact_and_is_audited(agent_api: AgentApi) -> None:
    r = await agent_api.client.get(
        "/v1/context", params={"phone": "0039 333 123 4567"}, headers=agent_api.bearer("pbx")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    idents = {i["kind"]: i for i in body["customer"]["identifiers"]}
    assert idents["phone"]["value"] == "+393331234567" and not idents["phone"]["masked"]
    assert idents["email"]["masked"] and "mariorossi@" not in r.text.split('"brief"')[0]
    assert "IT-2025-0012345" in {f["value"] for f in body["brief"]["sections"]["facts"]}
    assert body["url"].startswith(f"/customers/{agent_api.customer_key()}?c=")
    rows = agent_api.audit()
    assert any(
        a["action"] == "context_customer" and a["customer_key"] == agent_api.customer_key() for a in rows
    )
    assert all("333 123 4567" not in (a["detail"] or "") for a in rows)  # the queried phone is not kept whole
    r = await agent_api.client.get(
        "/v1/context", params={"email": "nobody@example.com"}, headers=agent_api.bearer("pbx")
    )
    assert r.status_code == 404
    r = await agent_api.client.get("/v1/context", headers=agent_api.bearer("pbx"))
    assert r.status_code == 400


async def test_pages_need_a_session(agent_api: AgentApi) -> None:
    c = agent_api.client
    r = await c.get(f"/customers/{agent_api.customer_key()}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/customers/")
    r = await agent_api.login("anna", "wrong password")
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    r = await agent_api.login("anna")
    assert r.status_code == 303 and "ordito_session" in r.headers["set-cookie"]
    assert "httponly" in r.headers["set-cookie"].lower() and "samesite=lax" in r.headers["set-cookie"].lower()
    page = await c.get(f"/customers/{agent_api.customer_key()}")
    assert page.status_code == 200 and "Mario Rossi" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # an agent sees other identifiers masked (nothing typed as the contact here), free text masked too
    assert "+393331234567" not in page.text and "ma•••@gmail.com" in page.text
    assert "347 765 4321" not in page.text and "IT-2025-0012345" in page.text
    assert any(a["action"] == "view_customer" and a["user_name"] == "anna" for a in agent_api.audit())
    # log out needs the form token
    r = await c.post("/logout", data={"csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    r = await c.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    r = await c.get(f"/customers/{agent_api.customer_key()}", follow_redirects=False)
    assert r.status_code == 303


async def test_search_unmasks_the_identifier_the_agent_typed(agent_api: AgentApi) -> None:
    c = agent_api.client
    await agent_api.login("anna")
    r = await c.get("/search", params={"q": "333-123-4567"}, follow_redirects=False)
    assert r.status_code == 303
    url = r.headers["location"]
    assert url.startswith(f"/customers/{agent_api.customer_key()}?c=")
    page = await c.get(url)
    assert "+393331234567" in page.text and "ma•••@gmail.com" in page.text
    forged = url.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAA"
    assert "+393331234567" not in (await c.get(forged)).text


async def test_roles_see_what_they_may(agent_api: AgentApi) -> None:
    c = agent_api.client
    key = agent_api.customer_key()
    await agent_api.login("alan")  # analyst: customers masked, no admin pages
    page = await c.get(f"/customers/{key}")
    assert page.status_code == 200 and "+393331234567" not in page.text
    assert (await c.get("/admin/audit")).status_code == 403
    r = await c.get("/v1/context", params={"phone": "3331234567"})
    assert r.status_code == 403  # screen pop is for agents and admins
    c.cookies.clear()
    await agent_api.login("ada")  # admin: everything in clear, the audit log
    page = await c.get(f"/customers/{key}")
    assert "+393331234567" in page.text and "mariorossi@gmail.com" in page.text
    audit = await c.get("/admin/audit")
    assert audit.status_code == 200 and "view_customer" in audit.text and "alan" in audit.text
    assert (await c.get("/admin/users")).status_code == 200


async def test_secrets_never_reach_logs_or_the_audit_log(
    agent_api: AgentApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("ordito").info("request with Authorization: Bearer %s", agent_api.tokens["pbx"])
    await agent_api.login("anna")
    await agent_api.login("anna", "a wrong password")
    await agent_api.client.get("/v1/context", params={"phone": "3331234567"}, headers=agent_api.bearer("pbx"))
    await agent_api.client.get(
        "/v1/context", params={"token": agent_api.tokens["root"]}, headers=agent_api.bearer("pbx")
    )
    text = caplog.text + str(agent_api.audit())
    for secret in (PASSWORD, "a wrong password", agent_api.tokens["pbx"], agent_api.tokens["root"]):
        assert secret not in text
    db = str(agent_api.ws.sql("SELECT * FROM users")) + str(agent_api.ws.sql("SELECT * FROM api_tokens"))
    assert PASSWORD not in db and agent_api.tokens["pbx"] not in db


async def test_a_shared_phone_gives_candidates_not_a_customer(agent_api: AgentApi) -> None:
    # a second person on the same phone, under another name: the phone becomes shared, nobody is merged
    await agent_api.send(
        [
            {
                "type": "identify",
                "messageId": "s1",
                "userId": "300300",
                "traits": {"phone": "+39 333 123 4567", "name": "Luca Bianchi", "email": "luca.b@libero.it"},
                "timestamp": "2025-03-09T10:00:00Z",
            }
        ]
    )
    r = await agent_api.client.get(
        "/v1/context", params={"phone": "3331234567"}, headers=agent_api.bearer("pbx")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["customer"] is None and body["ambiguous"]  # the integration shows a choice
    assert {"Mario Rossi", "Luca Bianchi"} <= {c["display_name"] for c in body["candidates"]}
    names = agent_api.ws.sql("SELECT display_name FROM customers WHERE status = 'active' ORDER BY 1")
    assert ("Luca Bianchi",) in names and ("Mario Rossi",) in names
