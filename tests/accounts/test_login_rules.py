"""The roles claim is read defensively: only `<this tenant>:<known role>` counts."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from accounts.services.login import role_from_claim

CLAIM = "urn:zitadel:iam:org:project:roles"


@pytest.mark.parametrize(
    "granted,expected",
    [
        ({"alpha:viewer": {"1": "a"}, "alpha:admin": {"1": "a"}}, Role.ADMIN),
        (["alpha:Editor"], Role.EDITOR),
        ({"ALPHA:viewer": {}}, Role.VIEWER),
        ({"beta:admin": {}}, None),
        ({"admin": {}}, None),
        ({"alpha:owner": {}}, None),
        ({"alpha:": {}}, None),
        ("alpha:admin", None),
        (42, None),
        (None, None),
        ({"alpha-evil:admin": {}, "xalpha:admin": {}}, None),
    ],
)
def test_role_from_claim(granted, expected):
    assert role_from_claim({CLAIM: granted}, tenant_slug="alpha") == expected


def test_missing_claim_grants_nothing():
    assert role_from_claim({}, tenant_slug="alpha") is None
