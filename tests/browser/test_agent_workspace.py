"""The agent workspace in a real browser: sign in, find a customer by a phone written another way, land on
the merged customer, read yesterday's order number in the brief, watch a new event arrive live."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.browser.conftest import ARTIFACTS, PASSWORD, Site

pytestmark = pytest.mark.browser


def _other_writing(e164: str) -> str:
    """+393331234567 -> '0039 333-123 4567' (how nobody stored it)."""
    n = e164[3:]
    return f"0039 {n[:3]}-{n[3:6]} {n[6:]}"


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def _sign_in(page: Any, site: Site) -> None:
    page.goto(site.base + "/")
    page.wait_for_url(re.compile(r"/login"))
    _shot(page, "01-login")
    page.fill("#name", "anna")
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(site.base + "/")


def test_find_the_customer_and_see_what_they_said_yesterday(page: Any, site: Site) -> None:
    c = site.customer
    _sign_in(page, site)
    page.keyboard.press("/")  # the search box has the focus anyway; "/" is the shortcut elsewhere
    page.fill("#q", _other_writing(c["phone"]))
    page.wait_for_selector("#result-list a")  # live results while typing (htmx)
    _shot(page, "02-search")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/customers/{c['customer_key']}"))
    page.wait_for_selector("#brief")
    assert page.locator("#cust-name").inner_text() == c["display_name"]
    # the merged customer: identifiers from several systems, the searched phone in clear, the rest masked
    ids = page.locator(".ids .id").all_inner_texts()
    assert any("customer_id" in t and "shop:" in t for t in ids), ids
    assert page.locator(".id.contact").inner_text().endswith(c["phone"])
    assert any("•••" in t for t in ids)
    # yesterday's chat: the order number is already in the brief, with a link to its evidence
    facts = page.locator("#brief-facts").inner_text()
    assert c["order_id"] in facts, facts
    _shot(page, "03-customer")
    page.locator("#brief-facts a.ev").first.click()
    page.wait_for_selector(".item.flash, dialog#evidence[open]")
    _shot(page, "04-evidence")


def test_filters_and_keyboard(page: Any, site: Site) -> None:
    c = site.customer
    _sign_in(page, site)
    page.goto(f"{site.base}/customers/{c['customer_key']}")
    page.check("#filters input[value='chat']")
    page.wait_for_function(
        "() => { const xs = document.querySelectorAll('#timeline-items > .item');"
        " return xs.length > 0 && [...xs].every(x => x.classList.contains('ch-chat')); }"
    )
    _shot(page, "05-filter-chat")
    page.locator("body").click()
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.classList.contains('item')")
    page.keyboard.press("?")
    assert page.locator("dialog#help").is_visible()
    page.keyboard.press("Escape")


def test_a_new_event_appears_live(page: Any, site: Site) -> None:
    c = site.customer
    _sign_in(page, site)
    page.goto(f"{site.base}/customers/{c['customer_key']}")
    page.wait_for_selector("#timeline-items")
    before = page.locator("#timeline-items > .item").count()
    text = f"Sono ancora in attesa dell'ordine {c['order_id']}, mi richiamate?"
    site.send(
        [
            {
                "type": "track",
                "messageId": f"browser-live-{int(time.time() * 1000)}",
                "userId": c["shop"].split(":", 1)[1],
                "event": "Chat Message",
                "context": {"channel": "chat"},
                "properties": {"text": text},
            }
        ]
    )
    item = page.locator("#timeline-items > .item.new", has_text="mi richiamate")
    item.first.wait_for(timeout=45_000)  # loader (0.2 s) + identity (1 s) + the page's poll (2 s)
    assert page.locator("#timeline-items > .item").count() > before
    assert page.locator("#timeline-items > .item").first.inner_text().find("mi richiamate") >= 0
    _shot(page, "06-live-event")
    # the brief follows: the new words are in it
    page.wait_for_function("() => document.querySelector('#brief').innerText.includes('mi richiamate')")
    _shot(page, "07-brief-updated")
