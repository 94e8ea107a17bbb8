"""Documentation that must not drift from the code."""

from __future__ import annotations

from pathlib import Path

from ordito import settings
from ordito.model import Channel, IdentifierKind

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "SETTINGS.md").read_text()
    for s in settings.SETTINGS:
        assert f"| {s.name} | `{s.env}` |" in text, s.name


def test_mapping_reference_lists_channels_and_kinds() -> None:
    text = (DOCS / "MAPPINGS.md").read_text()
    for c in Channel:
        assert c.value in text
    for k in IdentifierKind:
        assert f"`{k.value}`" in text


def test_every_table_is_documented() -> None:
    from ordito.store.schema import MIGRATIONS

    text = (DOCS / "DATA_MODEL.md").read_text()
    import re

    for stmts in MIGRATIONS.values():
        for s in stmts:
            m = re.search(r"CREATE (?:OR REPLACE )?(?:TABLE|VIEW) (?:IF NOT EXISTS )?(\w+)", s)
            if m and m.group(1) != "meta":
                assert f"`{m.group(1)}`" in text, m.group(1)
