"""`ordito user ...` and `ordito knowledge ...`: passwords never on the command line, tokens shown once."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ordito.cli import app


def test_users_and_tokens_from_the_command_line(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws.duckdb")
    run = CliRunner().invoke
    r = run(
        app,
        ["-w", ws, "user", "add", "anna", "--role", "agent", "--password-stdin"],
        input="long enough pw\n",
    )
    assert r.exit_code == 0, r.output
    r = run(app, ["-w", ws, "user", "add", "bob", "--role", "admin", "--generate-password"])
    assert r.exit_code == 0 and "password (shown once):" in r.output
    r = run(app, ["-w", ws, "user", "add", "pbx", "--system"])
    assert r.exit_code == 0 and "ordito user token pbx" in r.output
    r = run(app, ["-w", ws, "user", "token", "pbx", "--label", "switch"])
    token = r.output.split("(shown once): ")[1].split()[0]
    assert token.startswith("ordt_")
    r = run(app, ["-w", ws, "user", "list"])
    assert r.exit_code == 0 and "anna" in r.output and "pbx" in r.output and token not in r.output
    r = run(app, ["-w", ws, "user", "tokens"])
    assert token[:13] in r.output and token not in r.output
    r = run(app, ["-w", ws, "user", "token", "pbx", "--revoke", token[:13]])
    assert r.exit_code == 0 and "revoked" in r.output
    r = run(
        app, ["-w", ws, "user", "add", "carl", "--role", "boss", "--password-stdin"], input="long enough pw\n"
    )
    assert r.exit_code == 1 and "not one of" in r.output
    r = run(app, ["-w", ws, "user", "role", "anna", "analyst"])
    assert "anna is now analyst" in r.output


def test_knowledge_index_and_search(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    (kb / "en").mkdir(parents=True)
    (kb / "en" / "refunds.md").write_text("# Refunds\n\nA refund is paid within 14 days of the return.\n")
    (kb / "en" / "hours.md").write_text("# Opening hours\n\nStores open Monday to Saturday.\n")
    ws = str(tmp_path / "ws.duckdb")
    r = CliRunner().invoke(app, ["-w", ws, "knowledge", "index", str(kb)])
    assert r.exit_code == 0 and "indexed 2 articles" in r.output, r.output
    r = CliRunner().invoke(app, ["-w", ws, "knowledge", "search", "where is my refund", "--k", "1"])
    assert r.exit_code == 0 and "en/refunds" in r.output and "en/hours" not in r.output
