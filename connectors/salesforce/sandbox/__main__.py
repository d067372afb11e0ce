"""``python -m connectors.salesforce.sandbox --port 9502 [--rotate-refresh-tokens]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from connectors.sandbox_kit import main

from .app import DEFAULTS, create_app
from .platform import DEFAULT_ORG_ID, DEFAULT_USER_ID


def _arguments(parser: argparse.ArgumentParser) -> Sequence[str]:
    parser.add_argument(
        "--rotate-refresh-tokens",
        action="store_true",
        help="every refresh returns a new refresh token; the old one dies (S7)",
    )
    parser.add_argument("--org-id", default=DEFAULT_ORG_ID)
    parser.add_argument("--user-id", default=DEFAULT_USER_ID)
    return ("rotate_refresh_tokens", "org_id", "user_id")


if __name__ == "__main__":
    main(
        argv=None,
        prog="python -m connectors.salesforce.sandbox",
        description="Salesforce sandbox",
        port=9502,
        defaults=DEFAULTS,
        create_app=create_app,
        add_arguments=_arguments,
    )
