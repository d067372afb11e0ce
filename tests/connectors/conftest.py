"""Connector tests use the session sandboxes of ``tests/sandboxes.py`` (root conftest)."""
