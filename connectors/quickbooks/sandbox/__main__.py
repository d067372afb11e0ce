"""``python -m connectors.quickbooks.sandbox --port 9501 [--rate-limit off]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from connectors.sandbox_kit import main

from .app import DEFAULTS, REFRESH_GRACE, create_app


def _arguments(parser: argparse.ArgumentParser) -> Sequence[str]:
    parser.add_argument(
        "--refresh-grace",
        type=float,
        default=REFRESH_GRACE,
        help="seconds a replaced refresh token stays valid (default 86400, Q15)",
    )
    parser.add_argument(
        "--company-per-consent",
        action="store_true",
        help="a new company for every consent (one per tenant, as in production), "
        "not one per client id",
    )
    return ("refresh_grace", "company_per_consent")


if __name__ == "__main__":
    main(
        argv=None,
        prog="python -m connectors.quickbooks.sandbox",
        description="QuickBooks Online sandbox",
        port=9501,
        defaults=DEFAULTS,
        create_app=create_app,
        add_arguments=_arguments,
    )
