"""In a real browser: the dashboard shows the tenant's syncs, and an Editor replays a dead
letter from the Desk after fixing the route's mapping. Screenshots go to var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User
from pipeline.models import Delivery
from tests.pipeline.conftest import FIXTURES, wait_until

pytestmark = [pytest.mark.browser]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
INVOICES = (FIXTURES / "revenova_outbound_invoice.xml").read_bytes()


def _dead(wired) -> list[Delivery]:
    with schema_context(wired.tenant.schema_name):
        return list(Delivery.objects.filter(status=Delivery.Status.DEAD))


def test_dashboard_and_replaying_a_dead_letter_in_the_desk(
    browser,
    live_server_url,
    wired,
    django_db_blocker,
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    port = live_server_url.split(":")[1]
    base = f"http://pipe.localhost:{port}"
    with django_db_blocker.unblock():
        with schema_context(wired.tenant.schema_name):
            good = dict(wired.route.mapping)
            wired.route.mapping = {"items": {"line_haul": "21"}}
            wired.route.save(update_fields=["mapping"])
        body = (
            INVOICES.replace(b"04l5e00000HcA1BAAV", b"04l5e00000HcB1BAAV")
            .replace(b"04l5e00000HcA1CAAV", b"04l5e00000HcB1CAAV")
            .replace(b"LastModifiedDate>2025", b"LastModifiedDate>2029")
        )
        assert wired.post(body).status_code == 200
        wait_until(lambda: len(_dead(wired)) == 2, what="two dead letters")
        with schema_context(wired.tenant.schema_name):
            signed_in = Client(HTTP_HOST="pipe.localhost")
            signed_in.force_login(User.objects.get(username="ed"))
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    context.add_cookies(
        [{"name": "sessionid", "value": signed_in.cookies["sessionid"].value, "url": base}]
    )
    page = context.new_page()

    page.goto(f"{base}/admin/")
    page.click("#dashboard-link a")
    page.wait_for_selector("#dashboard")
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    text = page.inner_text("#dashboard")
    assert "Books" in text and "Connected" in text
    assert "Open it in the history" in text
    page.click("#dead-link")
    page.wait_for_selector("#lineage")
    assert "payload_invalid" in page.inner_text("#lineage")
    with django_db_blocker.unblock(), schema_context(wired.tenant.schema_name):
        wired.route.mapping = good  # the fix, made by whoever owns the mapping
        wired.route.save(update_fields=["mapping"])
    page.click("#replay-outbound")
    page.wait_for_selector(".messagelist")
    assert "Sent for replay from outbound." in page.inner_text(".messagelist")
    with django_db_blocker.unblock():
        wait_until(lambda: len(_dead(wired)) == 1, what="the replayed letter to be delivered")
    page.goto(f"{base}/dashboard/")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-after-replay.png"), full_page=True)
    assert "Open it in the history" in page.inner_text("#dead-letter")  # the other one
    with django_db_blocker.unblock(), schema_context(wired.tenant.schema_name):
        Delivery.objects.filter(status=Delivery.Status.DEAD).delete()  # for the next tests
    context.close()
