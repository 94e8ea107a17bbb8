"""Users, passwords, API tokens and sessions: secrets are never stored or logged in clear."""

from __future__ import annotations

import time

import pytest

from ordito.agent import auth
from ordito.agent.mask import mask_text, mask_value
from ordito.errors import AuthError, ConfigError, ForbiddenError, NotFoundError
from ordito.workspace import Workspace


def test_password_hashes_are_salted_scrypt_and_verify() -> None:
    h1, h2 = auth.hash_password("correct horse battery"), auth.hash_password("correct horse battery")
    assert h1 != h2 and h1.startswith("scrypt$16384$8$1$")
    assert auth.verify_password("correct horse battery", h1)
    assert not auth.verify_password("correct horse batterx", h1)
    assert not auth.verify_password("anything", None)
    assert not auth.verify_password("anything", "md5$abc")


def test_users_roles_and_permissions(ws: Workspace) -> None:
    eng = ws.engine
    with pytest.raises(ConfigError, match="at least 10"):
        auth.add_user(eng, "anna", "agent", password="short")
    with pytest.raises(ConfigError, match="not one of"):
        auth.add_user(eng, "anna", "boss", password="long enough pw")
    u = auth.add_user(eng, "Anna", "agent", password="long enough pw")
    assert u.name == "anna" and u.can("context.read") and not u.can("identifiers.unmasked")
    with pytest.raises(ConfigError, match="already exists"):
        auth.add_user(eng, "anna", "agent", password="long enough pw")
    assert auth.authenticate(eng, "ANNA", "long enough pw").name == "anna"
    with pytest.raises(AuthError):
        auth.authenticate(eng, "anna", "wrong password!")
    with pytest.raises(AuthError):
        auth.authenticate(eng, "nobody", "long enough pw")
    stored = eng.scalar("SELECT password_hash FROM users WHERE name = 'anna'")
    assert "long enough pw" not in stored
    assert auth.set_role(eng, "anna", "analyst").role == "analyst"
    auth.disable_user(eng, "anna")
    with pytest.raises(AuthError):
        auth.authenticate(eng, "anna", "long enough pw")
    sysu = auth.add_user(eng, "pbx", "agent", kind="system")
    with pytest.raises(AuthError):  # systems never sign in with a password
        auth.authenticate(eng, "pbx", "")
    assert sysu.kind == "system"
    p = auth.Principal(auth.get_user(eng, "pbx"), "token")
    p.require("context.read")
    with pytest.raises(ForbiddenError):
        p.require("customers.api")


def test_tokens_are_hashed_at_rest_and_revocable(ws: Workspace) -> None:
    eng = ws.engine
    auth.add_user(eng, "pbx", "agent", kind="system")
    token = auth.create_token(eng, "pbx", label="switch")
    assert token.startswith("ordt_") and len(token) == 45
    dump = str(eng.execute("SELECT * FROM api_tokens"))
    assert token not in dump and token[5:] not in dump and auth.sha256(token) in dump
    a = auth.Authority(eng, b"k" * 32, ttl=0.0)
    p = a.token(token)
    assert p is not None and p.name == "pbx" and p.via == "token"
    assert a.token(token + "x") is None and a.token("not-a-token") is None
    (t,) = auth.list_tokens(eng, "pbx")
    assert t.active and t.prefix == token[:13]
    auth.revoke_token(eng, t.prefix)
    assert a.token(token) is None
    with pytest.raises(NotFoundError):
        auth.revoke_token(eng, "ordt_nothere")


def test_sessions_are_signed_revocable_and_end_with_the_user(ws: Workspace) -> None:
    eng = ws.engine
    auth.add_user(eng, "anna", "agent", password="long enough pw")
    a = auth.Authority(eng, b"k" * 32, ttl=0.0)
    cookie, user = a.login("anna", "long enough pw")
    assert a.session(cookie) is not None
    sid = cookie.rpartition(".")[0]
    assert sid not in str(eng.execute("SELECT * FROM web_sessions"))  # only its hash is stored
    assert a.session(sid + ".forged") is None and a.session("garbage") is None
    other = auth.Authority(eng, b"x" * 32, ttl=0.0)  # another key cannot read it
    assert other.session(cookie) is None
    a.logout(cookie)
    assert a.session(cookie) is None
    cookie2, _ = a.login("anna", "long enough pw")
    auth.disable_user(eng, "anna")
    assert a.session(cookie2) is None


def test_failed_sign_ins_back_off(ws: Workspace) -> None:
    eng = ws.engine
    auth.add_user(eng, "anna", "agent", password="long enough pw")
    a = auth.Authority(eng, b"k" * 32)
    for _ in range(5):
        with pytest.raises(AuthError, match="Wrong"):
            a.login("anna", "nope nope nope")
    with pytest.raises(AuthError, match="Too many"):
        a.login("anna", "long enough pw")  # even the right password waits
    time.sleep(2.1)
    assert a.login("anna", "long enough pw")[1].name == "anna"


def test_redact_removes_secrets() -> None:
    line = "GET /x?token=abc&password=hunter2hunter2 Authorization: Bearer ordt_ABCDEFGHijklmnop1234567890"
    out = auth.redact(line)
    assert "hunter2" not in out and "ordt_ABCDEFGH" not in out and "abc&" not in out


def test_masking() -> None:
    assert mask_value("email", "mario.rossi@gmail.com") == "ma•••@gmail.com"
    assert mask_value("phone", "+393331234567").endswith("67") and "333" not in mask_value(
        "phone", "+393331234567"
    )
    assert mask_value("customer_id", "crm:104233") == "crm:•••233"
    text = "Scrivetemi a mario.rossi@gmail.com o al 347 765 4321, ordine IT-2025-0012345."
    masked = mask_text(text)
    assert "mario.rossi@" not in masked and "765 4321" not in masked and "IT-2025-0012345" in masked
    assert "mario.rossi@gmail.com" in mask_text(text, keep={"mario.rossi@gmail.com"})
