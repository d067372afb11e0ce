"""Kept for the tests that import from here; the helpers live in ``tests/helpers.py``."""

from tests.helpers import LINK_RE, expire_all_invitations, invite, member

__all__ = ["LINK_RE", "expire_all_invitations", "invite", "member"]
