"""``python -m connectors.revenova.sandbox --port 9503 [--username U --security-token T]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from connectors.salesforce.sandbox.platform import DEFAULT_ORG_ID
from connectors.sandbox_kit import main

from .app import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    DEFAULTS,
    create_app,
)


def _arguments(parser: argparse.ArgumentParser) -> Sequence[str]:
    parser.add_argument("--username", default=DEFAULT_USERNAME)
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    parser.add_argument("--security-token", default=DEFAULT_SECURITY_TOKEN)
    parser.add_argument("--org-id", default=DEFAULT_ORG_ID)
    parser.add_argument("--rotate-refresh-tokens", action="store_true")
    return ("username", "password", "security_token", "org_id", "rotate_refresh_tokens")


if __name__ == "__main__":
    main(
        argv=None,
        prog="python -m connectors.revenova.sandbox",
        description="Revenova TMS sandbox",
        port=9503,
        defaults=DEFAULTS,
        create_app=create_app,
        add_arguments=_arguments,
    )
