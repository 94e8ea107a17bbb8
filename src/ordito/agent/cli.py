"""``ordito user ...`` (people, systems, API tokens) and ``ordito knowledge ...`` (the knowledge base).

Passwords are never taken on the command line (they would show in ``ps`` and shell history): they are
asked for, read from standard input (``--password-stdin``) or generated and shown once.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

user_app = typer.Typer(no_args_is_help=True, help="People and systems who may read customers; API tokens.")
knowledge_app = typer.Typer(no_args_is_help=True, help="The knowledge base behind agent suggestions.")


def _main() -> Any:
    from .. import cli

    return cli


def _password(stdin: bool, generate: bool) -> tuple[str, bool]:
    from .auth import generate_password

    if generate:
        return generate_password(16), True
    if stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if not sys.stdin.isatty():
        from ..errors import ConfigError

        raise ConfigError("No terminal to ask for a password: use --password-stdin or --generate-password")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True), False


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (lower case).")],
    role: Annotated[str, typer.Option(help="agent, analyst or admin.")] = "agent",
    system: Annotated[
        bool, typer.Option("--system", help="A system (screen pop, chat): API tokens only.")
    ] = False,
    display_name: Annotated[str | None, typer.Option(help="Name shown in the app.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    generate_password: Annotated[
        bool, typer.Option("--generate-password", help="Generate one, shown once.")
    ] = False,
) -> None:
    """Add a person (asked for a password) or a system (--system; then `ordito user token NAME`)."""
    from .auth import add_user

    m = _main()
    with m._errors():
        pw, shown = (None, False) if system else _password(password_stdin, generate_password)
        ws = m._open()
        try:
            u = add_user(
                ws.engine,
                name,
                role,
                password=pw,
                kind="system" if system else "person",
                display_name=display_name,
            )
        finally:
            ws.close()
        m.console.print(f"added {u.kind} {u.name!r} with role {u.role}")
        if shown:
            m.console.print(f"password (shown once): {pw}")
        if system:
            m.console.print(f"give it an API token: ordito user token {u.name}")


@user_app.command("list")
def user_list() -> None:
    """Users, their roles and when they last signed in."""
    from rich.table import Table

    from .auth import list_tokens, list_users

    m = _main()
    with m._errors():
        ws = m._open(read_only=True)
        try:
            users, tokens = list_users(ws.engine), list_tokens(ws.engine)
        finally:
            ws.close()
        t = Table("name", "role", "kind", "status", "last sign-in", "active tokens", box=None)
        for u in users:
            n = sum(1 for k in tokens if k.user_name == u.name and k.active)
            t.add_row(
                u.name,
                u.role,
                u.kind,
                "active" if u.active else "disabled",
                str(u.last_login_at or ""),
                str(n),
            )
        m.console.print(t)


@user_app.command("role")
def user_role(name: str, role: str) -> None:
    """Change a user's role."""
    from .auth import set_role

    m = _main()
    with m._errors():
        ws = m._open()
        try:
            u = set_role(ws.engine, name, role)
        finally:
            ws.close()
        m.console.print(f"{u.name} is now {u.role}")


@user_app.command("password")
def user_password(
    name: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    generate_password: Annotated[
        bool, typer.Option("--generate-password", help="Generate one, shown once.")
    ] = False,
) -> None:
    """Set a person's password (their open sessions end)."""
    from .auth import set_password

    m = _main()
    with m._errors():
        pw, shown = _password(password_stdin, generate_password)
        ws = m._open()
        try:
            set_password(ws.engine, name, pw)
        finally:
            ws.close()
        m.console.print(f"password of {name} changed" + (f" (shown once): {pw}" if shown else ""))


@user_app.command("disable")
def user_disable(name: str) -> None:
    """Disable a user: sign-in, sessions and tokens stop working."""
    from .auth import disable_user

    m = _main()
    with m._errors():
        ws = m._open()
        try:
            disable_user(ws.engine, name)
        finally:
            ws.close()
        m.console.print(f"{name} disabled")


@user_app.command("enable")
def user_enable(name: str) -> None:
    """Enable a disabled user again."""
    from .auth import enable_user

    m = _main()
    with m._errors():
        ws = m._open()
        try:
            enable_user(ws.engine, name)
        finally:
            ws.close()
        m.console.print(f"{name} enabled")


@user_app.command("token")
def user_token(
    name: Annotated[str, typer.Argument(help="The user (a system, usually) the token acts as.")],
    label: Annotated[str | None, typer.Option(help="Where it is deployed.")] = None,
    days: Annotated[float | None, typer.Option(help="Expires after this many days (default: never).")] = None,
    revoke: Annotated[
        str | None, typer.Option(help="Revoke this token (the token or its prefix) instead.")
    ] = None,
) -> None:
    """Create an API token for a user (shown once), or revoke one with --revoke."""
    from .auth import create_token, revoke_token

    m = _main()
    with m._errors():
        ws = m._open()
        try:
            if revoke:
                t = revoke_token(ws.engine, revoke)
                m.console.print(f"revoked {t.prefix}… of {t.user_name}")
                return
            token = create_token(ws.engine, name, label=label, days=days)
        finally:
            ws.close()
        m.console.print(f"API token for {name} (shown once): {token}")
        m.console.print("Send it as `Authorization: Bearer <token>`, e.g. GET /v1/context?phone=...")


@user_app.command("tokens")
def user_tokens(name: Annotated[str | None, typer.Argument(help="Only this user's.")] = None) -> None:
    """API tokens (prefixes only)."""
    from rich.table import Table

    from .auth import list_tokens

    m = _main()
    with m._errors():
        ws = m._open(read_only=True)
        try:
            tokens = list_tokens(ws.engine, name)
        finally:
            ws.close()
        t = Table("prefix", "user", "label", "created", "expires", "status", box=None)
        for k in tokens:
            t.add_row(
                k.prefix + "…",
                k.user_name,
                k.label or "",
                str(k.created_at),
                str(k.expires_at or ""),
                "active" if k.active else "revoked/expired",
            )
        m.console.print(t)


@knowledge_app.command("index")
def knowledge_index(
    folder: Annotated[Path, typer.Argument(help="Folder of Markdown/HTML articles.")],
) -> None:
    """Index a folder of articles (replaces the previous knowledge base)."""
    from .knowledge import index_folder

    m = _main()
    with m._errors():
        ws = m._open()
        try:
            with m._progress() as prog:
                task = prog.add_task("indexing", total=None, note="articles")
                res = index_folder(
                    ws.engine, folder, progress=lambda d, t: prog.update(task, completed=d, total=t)
                )
        finally:
            ws.close()
        emb = f"embeddings: {res['model']}" if res["embeddings"] else "no embeddings (BM25 only)"
        m.console.print(f"indexed {res['articles']} articles in {res['chunks']} chunks; {emb}")


@knowledge_app.command("search")
def knowledge_search(
    query: Annotated[str, typer.Argument(help="What the customer needs, in their words.")],
    lang: Annotated[str | None, typer.Option(help="it or en (default: any).")] = None,
    k: Annotated[int, typer.Option(help="How many articles.")] = 3,
) -> None:
    """The articles the agent would be shown for a need."""
    from rich.table import Table

    from .knowledge import KnowledgeBase

    m = _main()
    with m._errors():
        ws = m._open(read_only=True)
        try:
            kb = KnowledgeBase.load(ws.engine)
        finally:
            ws.close()
        if kb is None:
            from ..errors import NotFoundError

            raise NotFoundError("No knowledge base indexed: run `ordito knowledge index FOLDER`")
        t = Table("article", "title", "score", "bm25", "cosine", box=None)
        for h in kb.suggest(query, lang, k):
            t.add_row(
                h["article_id"], h["title"], f"{h['score']:.4f}", f"{h['bm25']:.2f}", f"{h['cosine']:.3f}"
            )
        m.console.print(t)
