"""A local QuickBooks Online sandbox: ``python -m connectors.quickbooks.sandbox --port 9501``.

See ``app.py`` for what it imitates and where it differs from the real service.
Plain Python and aiohttp; it never imports Django.
"""

from .app import DEFAULTS, QuickBooksSandbox, create_app

__all__ = ["DEFAULTS", "QuickBooksSandbox", "create_app"]
