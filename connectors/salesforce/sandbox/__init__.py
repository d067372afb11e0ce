"""A local Salesforce sandbox: ``python -m connectors.salesforce.sandbox --port 9502``.

See ``platform.py`` for what it imitates and where it differs from a real org.
Plain Python and aiohttp; it never imports Django.
"""

from .app import DEFAULTS, SalesforceSandbox, create_app

__all__ = ["DEFAULTS", "SalesforceSandbox", "create_app"]
