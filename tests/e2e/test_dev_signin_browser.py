"""In a real browser: the demo Admin clicks the company-account button and lands in the Desk.

The provider is the one `make up` runs (scripts/dev_idp_seed.py --serve, the
same seed and server), on a free port; the tenant is a committed `demo`
tenant on the live server, removed afterwards.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.oidc]


def test_the_seeded_demo_admin_signs_in_with_the_company_account_button(
    browser, live_server_url, dev_idp, demo_tenant, django_db_blocker
):
    base = f"http://demo.{live_server_url}"
    admin = dev_idp.user("admin")
    context = browser.new_context()
    page = context.new_page()

    page.goto(f"{base}/admin/login/")
    page.click("text=Sign in with your company account")
    page.wait_for_url(f"{dev_idp.issuer}/interaction/**")
    page.fill("#login", "admin@demo.localhost")
    page.fill("#password", admin["password"])
    page.click("#submit")
    page.wait_for_url(f"{base}/admin/")

    assert "Nexiom Desk" in page.title()
    assert page.text_content("#user-tools strong") == "admin@demo.localhost"
    assert page.locator("a[href='/admin/accounts/invitation/']").count() >= 1
    assert page.locator("a[href='/admin/accounts/invitation/add/']").count() == 1
    assert page.goto(f"{base}/admin/accounts/invitation/").status == 200
    context.close()
    with django_db_blocker.unblock(), schema_context("demo"):
        user = User.objects.get(oidc_sub="dev-demo-admin")
        assert (user.email, user.role, user.is_active) == ("admin@demo.localhost", Role.ADMIN, True)
