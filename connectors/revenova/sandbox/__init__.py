"""A local Revenova TMS sandbox: ``python -m connectors.revenova.sandbox --port 9503``.

See ``app.py`` for what it imitates and where it differs from a real org.
Plain Python and aiohttp; it never imports Django.
"""

from .app import DEFAULTS, RevenovaSandbox, create_app

__all__ = ["DEFAULTS", "RevenovaSandbox", "create_app"]
