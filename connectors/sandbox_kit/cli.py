"""``run()`` and the command line every sandbox's ``__main__`` shares.

python -m connectors.quickbooks.sandbox --port 9501 --rate-limit off
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web


def run(app: web.Application, host: str = "127.0.0.1", port: int = 9500, **kwargs: Any) -> None:
    """Serve ``app`` until Ctrl-C or SIGTERM; no access log unless ``access_log=True``."""
    access_log = kwargs.pop("access_log", False)
    web.run_app(
        app,
        host=host,
        port=port,
        access_log=web.access_logger if access_log else None,
        print=lambda message: print(message, flush=True),
        **kwargs,
    )


def _limit(value: str) -> int | None:
    if value.lower() in {"off", "none", "0"}:
        return None
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 'off' or a positive integer")
    return number


def build_parser(
    *, prog: str, description: str, port: int, defaults: dict[str, Any]
) -> argparse.ArgumentParser:
    """The shared flags; ``defaults`` holds the provider's defaults for them."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--client-id", default=defaults["client_id"])
    parser.add_argument("--client-secret", default=defaults["client_secret"])
    parser.add_argument(
        "--access-ttl", type=float, default=defaults.get("access_ttl", 3600.0), help="seconds"
    )
    parser.add_argument(
        "--refresh-ttl",
        type=float,
        default=defaults.get("refresh_ttl"),
        help="seconds a refresh token lives (default: the provider's)",
    )
    parser.add_argument(
        "--rate-limit",
        type=_limit,
        default=defaults.get("rate_limit"),
        metavar="off|N",
        help="requests per --rate-window per account (default: the provider's real limit)",
    )
    parser.add_argument(
        "--rate-window",
        type=float,
        default=defaults.get("rate_window", 60.0),
        help="seconds of the rate-limit window (default 60)",
    )
    parser.add_argument(
        "--concurrency",
        type=_limit,
        default=defaults.get("concurrency"),
        metavar="off|N",
        help="requests in flight per account",
    )
    parser.add_argument(
        "--redirect-uri-prefix",
        action="append",
        dest="redirect_uri_prefixes",
        default=None,
        help="allowed redirect_uri prefix (repeatable); default: any "
        "http://localhost:<port>/api/callback/ or http://127.0.0.1:<port>/api/callback/",
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay every API answer (default 0)"
    )
    parser.add_argument(
        "--public-url", default=None, help="the base URL the sandbox gives out (instance_url)"
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    return parser


def options_from_args(args: argparse.Namespace, *, extra: Sequence[str] = ()) -> dict[str, Any]:
    """The keyword options for a provider's ``create_app`` from parsed arguments."""
    options: dict[str, Any] = {
        "client_id": args.client_id,
        "client_secret": args.client_secret,
        "access_ttl": args.access_ttl,
        "refresh_ttl": args.refresh_ttl,
        "rate_limit": args.rate_limit,
        "rate_window": args.rate_window,
        "concurrency": args.concurrency,
        "redirect_uri_prefixes": tuple(args.redirect_uri_prefixes or ()),
        "latency_ms": args.latency_ms,
        "public_url": args.public_url,
    }
    for name in extra:
        options[name] = getattr(args, name)
    return options


def main(
    *,
    argv: Sequence[str] | None,
    prog: str,
    description: str,
    port: int,
    defaults: dict[str, Any],
    create_app: Callable[..., web.Application],
    add_arguments: Callable[[argparse.ArgumentParser], Sequence[str]] | None = None,
) -> None:
    """Parse the command line, build the app and serve it.

    ``add_arguments`` adds the provider's own flags and returns their ``dest``
    names, which are passed to ``create_app`` as keyword options.
    """
    parser = build_parser(prog=prog, description=description, port=port, defaults=defaults)
    extra = tuple(add_arguments(parser)) if add_arguments else ()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    app = create_app(**options_from_args(args, extra=extra))
    print(f"{description}: http://{args.host}:{args.port}  client_id={args.client_id}", flush=True)
    run(app, host=args.host, port=args.port, access_log=args.access_log)
