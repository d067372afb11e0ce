"""The versioned keyring: which AES-256 keys seal and open secrets.

``NEXIOM_VAULT_KEYS`` lists ``VERSION:BASE64KEY`` entries separated by commas,
for example ``3:<base64 of 32 bytes>,2:<...>``. The highest version seals
every new secret; every listed version opens the secrets sealed with it. To
rotate: add a higher version, run ``vault_rotate``, and drop an old version
only once ``vault_rotate --check`` shows that no secret uses it.

In production (``DJANGO_DEBUG`` off) a missing, short or malformed keyring
stops start-up (``VaultConfig.ready``). A key that is visibly not random (all
zeros, one byte or a short pattern repeated, ASCII text) is refused whatever
the mode: it is a placeholder someone forgot, and anyone who read it can open
every secret. On a developer machine without
``NEXIOM_VAULT_KEYS``, a key is generated once into a local file under
``var/`` (0600, git-ignored) and reused, so dev secrets survive restarts.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from vault.errors import VaultMisconfigured

KEY_BYTES = 32
_VERSION_RE = re.compile(r"[0-9]{1,9}")
_GENERATE_HINT = (
    'generate a key with: python -c "import base64, os; '
    'print(base64.b64encode(os.urandom(32)).decode())"'
)


class Keyring:
    """AES-256-GCM ciphers by key version. Its repr lists versions, never keys."""

    __slots__ = ("_ciphers",)

    def __init__(self, keys: Mapping[int, bytes]) -> None:
        if not keys:
            raise VaultMisconfigured("A keyring needs at least one key.")
        for version, key in keys.items():
            if not isinstance(version, int) or version < 1:
                raise VaultMisconfigured(f"Key versions are positive integers, got {version!r}.")
            if len(key) != KEY_BYTES:
                raise VaultMisconfigured(
                    f"Key v{version} is {len(key)} bytes; AES-256 needs exactly {KEY_BYTES}."
                )
        self._ciphers = {version: AESGCM(bytes(keys[version])) for version in sorted(keys)}

    @property
    def newest_version(self) -> int:
        """The version that seals: the highest one."""
        return max(self._ciphers)

    @property
    def versions(self) -> tuple[int, ...]:
        """Every version, newest first."""
        return tuple(sorted(self._ciphers, reverse=True))

    def __contains__(self, version: object) -> bool:
        return version in self._ciphers

    def cipher(self, version: int) -> AESGCM:
        """The cipher of one version; KeyError when the keyring does not hold it."""
        return self._ciphers[version]

    def __repr__(self) -> str:
        return f"Keyring(versions={list(self.versions)})"


def keyring_parse(raw: str, *, source: str = "NEXIOM_VAULT_KEYS") -> Keyring:
    """Parse ``VERSION:BASE64KEY[,VERSION:BASE64KEY...]``; errors name the entry, not the key."""
    entries = [entry.strip() for entry in re.split(r"[,\n]", raw or "") if entry.strip()]
    if not entries:
        raise VaultMisconfigured(f"{source} holds no key; {_GENERATE_HINT}")
    keys: dict[int, bytes] = {}
    for position, entry in enumerate(entries, start=1):
        version_text, separator, key_text = entry.partition(":")
        version_text = version_text.strip()
        if not separator or not _VERSION_RE.fullmatch(version_text) or int(version_text) < 1:
            raise VaultMisconfigured(
                f"{source}: entry {position} is not VERSION:BASE64KEY with a positive integer "
                "version (e.g. 2:<base64 of 32 bytes>)."
            )
        version = int(version_text)
        if version in keys:
            raise VaultMisconfigured(f"{source}: key version {version} is listed twice.")
        key = _b64decode(key_text.strip())
        if key is None:
            raise VaultMisconfigured(f"{source}: key v{version} is not valid base64.")
        if len(key) != KEY_BYTES:
            raise VaultMisconfigured(
                f"{source}: key v{version} is {len(key)} bytes; AES-256 needs exactly "
                f"{KEY_BYTES} random bytes; {_GENERATE_HINT}"
            )
        weakness = key_weakness(key)
        if weakness:
            raise VaultMisconfigured(
                f"{source}: key v{version} is not random ({weakness}); it may be a "
                f"published placeholder. {_GENERATE_HINT}"
            )
        keys[version] = key
    return Keyring(keys)


def key_weakness(key: bytes) -> str | None:
    """Why ``key`` is visibly not random, or None.

    Each test would reject a truly random 32-byte key with a probability below
    1e-13, so a refusal always means a made-up key.
    """
    for period in range(1, len(key) // 2 + 1):
        if key == (key[:period] * (len(key) // period + 1))[: len(key)]:
            if period == 1:
                return "all zeros" if key[0] == 0 else "one byte value repeated"
            return f"a {period}-byte pattern repeated"
    if all(0x20 <= byte < 0x7F for byte in key):
        return "printable text, not random bytes"
    return None


def _b64decode(text: str) -> bytes | None:
    """Standard or URL-safe base64, padding optional; None when it is not base64."""
    normalised = text.replace("-", "+").replace("_", "/")
    normalised += "=" * (-len(normalised) % 4)
    try:
        return base64.b64decode(normalised, validate=True)
    except (binascii.Error, ValueError):
        return None


def keyring_entry_generate(*, version: int) -> str:
    """A fresh ``VERSION:BASE64KEY`` entry (for the dev key file, tests and operators)."""
    return f"{version}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


def keyring_get() -> Keyring:
    """The keyring of the current settings, parsed once per distinct configuration."""
    raw = (getattr(settings, "NEXIOM_VAULT_KEYS", "") or "").strip()
    dev_file = getattr(settings, "NEXIOM_VAULT_DEV_KEY_FILE", None)
    return _keyring_for(raw, str(dev_file) if dev_file else None)


@functools.lru_cache(maxsize=16)
def _keyring_for(raw: str, dev_file: str | None) -> Keyring:
    if raw:
        return keyring_parse(raw)
    if dev_file:
        return keyring_parse(_dev_keys_read(Path(dev_file)), source=dev_file)
    raise VaultMisconfigured(
        "NEXIOM_VAULT_KEYS is required when DJANGO_DEBUG is off: set it to "
        f"1:<base64 of 32 random bytes> (more keys: 2:<...>,1:<...>); {_GENERATE_HINT}"
    )


def _dev_keys_read(path: Path) -> str:
    if not path.exists():
        _dev_key_file_create(path)
    lines = path.read_text().splitlines()
    return ",".join(line for line in lines if line.strip() and not line.lstrip().startswith("#"))


def _dev_key_file_create(path: Path) -> None:
    """Write a one-key keyring atomically: 0600, and never over a file another process wrote."""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = (
        "# Nexiom development vault keyring, generated on first use. Local only: never\n"
        "# use it in production, where NEXIOM_VAULT_KEYS is required.\n"
        f"{keyring_entry_generate(version=1)}\n"
    )
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".vault-dev-")  # 0600
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(content)
        # If another process created it first, everybody uses that one.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
