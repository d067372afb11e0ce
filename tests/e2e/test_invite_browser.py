"""In a real browser: an Admin invites a user, who accepts and lands in the Desk as a Viewer.

Runs against a live server thread and a dedicated tenant whose data is
committed (the server has its own connections), removed afterwards.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from accounts.models import Invitation, User
from accounts.roles import Role
from tenants.models import Tenant
from tenants.services import tenant_provision

pytestmark = [pytest.mark.browser, pytest.mark.oidc]


@pytest.fixture
def browser_tenant(django_db_blocker):
    with django_db_blocker.unblock():
        tenant = tenant_provision(slug="browser", name="Browser Freight").tenant
        yield tenant
        Tenant.objects.get(pk=tenant.pk).delete(force_drop=True)


def test_admin_invites_and_the_invitee_lands_as_a_read_only_viewer(
    browser, live_server_url, idp, browser_tenant, django_db_blocker
):
    base = f"http://browser.{live_server_url}"
    idp.add_user(sub="sub-ada", email="ada@browser.example", roles={"browser:admin": {}})
    idp.add_user(sub="sub-vic", email="vic@browser.example", password="vic's long password")
    mail.outbox.clear()

    # The Admin signs in through the provider and sends an invitation.
    admin = browser.new_context()
    page = admin.new_page()
    page.goto(f"{base}/admin/")
    page.click("#sso-login")
    page.fill("#login", "sub-ada")
    page.fill("#password", idp.users["sub-ada"].password)
    page.click("#submit")
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}/admin/accounts/invitation/add/")
    page.fill("#id_email", "vic@browser.example")
    page.select_option("#id_role", "Viewer")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/accounts/invitation/")
    assert "vic@browser.example" in page.content()
    admin.close()

    # The invitee follows the emailed link, signs in, and lands in the Desk.
    link = re.search(r"http://browser\.localhost:\d+/invitations/[\w-]+/", mail.outbox[-1].body)
    invitee = browser.new_context()
    page = invitee.new_page()
    page.goto(link.group(0).replace(":8000", f":{live_server_url.split(':')[1]}"))
    assert page.inner_text("#role") == "Viewer"
    page.click("#accept")
    page.fill("#login", "sub-vic")
    page.fill("#password", "vic's long password")
    page.click("#submit")
    page.wait_for_url(f"{base}/admin/")
    assert "Nexiom Desk" in page.title()

    # As a Viewer: users are visible, nothing can be changed or invited.
    page.goto(f"{base}/admin/accounts/user/")
    assert "ada@browser.example" in page.content()
    assert page.locator("select[name=action]").count() == 0
    assert page.locator("a[href$='/accounts/user/add/']").count() == 0
    assert page.locator("a[href$='/accounts/invitation/add/']").count() == 0
    page.click("#result_list a >> text=ada@browser.example")
    assert page.locator("input[name=_save]").count() == 0
    response = page.goto(f"{base}/admin/accounts/invitation/")
    assert response.status == 403
    invitee.close()

    with django_db_blocker.unblock(), schema_context("browser"):
        vic = User.objects.get(oidc_sub="sub-vic")
        assert vic.role == Role.VIEWER
        assert Invitation.objects.get(email="vic@browser.example").status == "accepted"
