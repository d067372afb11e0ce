"""The toolkit the connector sandboxes are built from (plain Python and aiohttp, no Django).

A sandbox is a local, standalone server of a provider's remote API, for demos,
tests and benchmarks. This package gives each one the same OAuth 2.0
authorization server (consent page, code exchange with PKCE, refresh with the
provider's rotation rule, revoke), the bearer gate for API routes, fault
injection, a per-account rate limiter, the ``/__sandbox__/*`` control routes
and the command line. A provider's sandbox supplies the rest as a
``SandboxProvider`` subclass: paths, rules and its own error bodies.
"""

from .app import SANDBOX, Sandbox, create_sandbox_app
from .cli import main, run
from .options import RotationRule, SandboxOptions
from .provider import Grant, SandboxProvider, json_response
from .tokens import Token, fingerprint, pkce_s256

__all__ = [
    "SANDBOX",
    "Grant",
    "RotationRule",
    "Sandbox",
    "SandboxOptions",
    "SandboxProvider",
    "Token",
    "create_sandbox_app",
    "fingerprint",
    "json_response",
    "main",
    "pkce_s256",
    "run",
]
