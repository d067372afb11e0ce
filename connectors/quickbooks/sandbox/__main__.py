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
    return ("refresh_grace",)


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
