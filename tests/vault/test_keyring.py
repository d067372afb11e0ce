"""NEXIOM_VAULT_KEYS: parsing, the dev key file, and the start-up check in production."""

from __future__ import annotations

import base64
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from vault import crypto
from vault.errors import VaultMisconfigured
from vault.keyring import (
    Keyring,
    _keyring_for,
    key_weakness,
    keyring_entry_generate,
    keyring_get,
    keyring_parse,
)

KEY = os.urandom(32)
KEY_B64 = base64.b64encode(KEY).decode()
REPO = Path(__file__).resolve().parents[2]


def test_a_versioned_keyring_parses_newest_first():
    keyring = keyring_parse(f"3:{KEY_B64}, 1:{base64.b64encode(os.urandom(32)).decode()}")

    assert keyring.versions == (3, 1)
    assert keyring.newest_version == 3
    assert 1 in keyring and 2 not in keyring
    assert repr(keyring) == "Keyring(versions=[3, 1])"


def test_url_safe_and_unpadded_base64_are_accepted():
    urlsafe = base64.urlsafe_b64encode(KEY).decode().rstrip("=")

    keyring = keyring_parse(f"2:{urlsafe}")

    assert keyring.versions == (2,)


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "NEXIOM_VAULT_KEYS holds no key; generate a key with"),
        (" , ", "NEXIOM_VAULT_KEYS holds no key"),
        (KEY_B64, "NEXIOM_VAULT_KEYS: entry 1 is not VERSION:BASE64KEY"),
        (f"v1:{KEY_B64}", "entry 1 is not VERSION:BASE64KEY with a positive integer version"),
        (f"0:{KEY_B64}", "entry 1 is not VERSION:BASE64KEY"),
        (f"2:{KEY_B64},-1:{KEY_B64}", "entry 2 is not VERSION:BASE64KEY"),
        (f"1:{KEY_B64}!", "NEXIOM_VAULT_KEYS: key v1 is not valid base64."),
        (
            f"1:{base64.b64encode(KEY[:16]).decode()}",
            "key v1 is 16 bytes; AES-256 needs exactly 32",
        ),
        (f"1:{base64.b64encode(KEY + b'x').decode()}", "key v1 is 33 bytes"),
        (f"1:{KEY_B64},1:{KEY_B64}", "NEXIOM_VAULT_KEYS: key version 1 is listed twice."),
    ],
)
def test_a_malformed_keyring_is_refused_with_a_clear_message(raw, message):
    with pytest.raises(VaultMisconfigured) as error:
        keyring_parse(raw)

    assert message in str(error.value)
    assert KEY_B64[:16] not in str(error.value)
    assert isinstance(error.value, ImproperlyConfigured)


def test_a_keyring_object_refuses_bad_keys():
    with pytest.raises(VaultMisconfigured, match="at least one key"):
        Keyring({})
    with pytest.raises(VaultMisconfigured, match="positive integers"):
        Keyring({0: KEY})
    with pytest.raises(VaultMisconfigured, match="Key v1 is 31 bytes"):
        Keyring({1: KEY[:31]})


def test_keyring_get_follows_the_settings(settings, vault_keys):
    settings.NEXIOM_VAULT_KEYS = vault_keys.env(2, 1)

    assert keyring_get().versions == (2, 1)
    assert keyring_get() is keyring_get()  # parsed once


def test_without_keys_and_without_a_dev_file_the_keyring_is_refused(settings):
    settings.NEXIOM_VAULT_KEYS = ""
    settings.NEXIOM_VAULT_DEV_KEY_FILE = None

    with pytest.raises(VaultMisconfigured) as error:
        keyring_get()

    assert str(error.value).startswith("NEXIOM_VAULT_KEYS is required when DJANGO_DEBUG is off")


def test_in_dev_a_key_file_is_generated_once_0600_and_reused(settings, tmp_path):
    key_file = tmp_path / "var" / "vault-dev.keys"
    settings.NEXIOM_VAULT_KEYS = ""
    settings.NEXIOM_VAULT_DEV_KEY_FILE = key_file
    aad = b"dev"

    first = keyring_get()
    sealed = crypto.seal(keyring=first, plaintext=b"{}", aad=aad)
    content = key_file.read_text()
    _keyring_for.cache_clear()  # as a second process would start
    second = keyring_get()

    assert second is not first
    assert crypto.unseal(keyring=second, sealed=sealed, aad=aad, label="x") == b"{}"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert content.count("\n1:") == 1
    assert sorted(p.name for p in key_file.parent.iterdir()) == ["vault-dev.keys"]


def test_a_dev_key_file_written_meanwhile_by_another_process_is_kept(settings, tmp_path):
    from vault.keyring import _dev_key_file_create

    key_file = tmp_path / "vault-dev.keys"
    _dev_key_file_create(key_file)
    before = key_file.read_text()

    _dev_key_file_create(key_file)

    assert key_file.read_text() == before


def test_the_dev_key_file_lives_under_the_git_ignored_var_directory():
    assert Path(settings.NEXIOM_VAULT_DEV_KEY_FILE).parent == REPO / "var"
    assert "var/" in (REPO / ".gitignore").read_text().splitlines()


def _start(keys: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXIOM_VAULT", "DJANGO_"))}
    env |= {
        "DJANGO_SETTINGS_MODULE": "nexiom.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "test-only-not-a-secret-" + "x" * 40,
        "OIDC_RP_CLIENT_SECRET": "test-only-not-a-secret",
    }
    if keys is not None:
        env["NEXIOM_VAULT_KEYS"] = keys
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "keys, message",
    [
        (None, "NEXIOM_VAULT_KEYS is required when DJANGO_DEBUG is off"),
        (f"1:{base64.b64encode(KEY[:20]).decode()}", "key v1 is 20 bytes"),
        ("one:two", "entry 1 is not VERSION:BASE64KEY"),
    ],
    ids=["missing", "short", "malformed"],
)
def test_production_start_up_stops_on_a_bad_keyring(keys, message):
    result = _start(keys)

    assert result.returncode != 0
    assert "VaultMisconfigured: NEXIOM_VAULT_KEYS" in result.stderr
    assert message in result.stderr
    assert base64.b64encode(KEY[:20]).decode() not in result.stderr


def test_production_start_up_passes_with_a_good_keyring():
    result = _start(f"{keyring_entry_generate(version=2)},{keyring_entry_generate(version=1)}")

    assert "NEXIOM_VAULT_KEYS" not in result.stderr
    assert result.returncode == 0, result.stderr[-2000:]


# --- Keys that are visibly not random --------------------------------------------

# The placeholder docker/Dockerfile once published (32 zero bytes).
DOCKERFILE_PLACEHOLDER = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


@pytest.mark.parametrize(
    "key, weakness",
    [
        (bytes(32), "all zeros"),
        (b"\xff" * 32, "one byte value repeated"),
        (b"\x01\x02" * 16, "a 2-byte pattern repeated"),
        (b"\x9a\x10\xee" * 10 + b"\x9a\x10", "a 3-byte pattern repeated"),
        (os.urandom(16) * 2, "a 16-byte pattern repeated"),
        (b"correct horse battery staple 123", "printable text, not random bytes"),
    ],
    ids=["zeros", "one-byte", "2-byte-pattern", "3-byte-pattern", "16-byte-pattern", "text"],
)
def test_a_key_that_is_not_random_is_refused(key, weakness):
    entry = f"1:{base64.b64encode(key).decode()}"

    with pytest.raises(VaultMisconfigured) as error:
        keyring_parse(f"2:{KEY_B64},{entry}")

    assert str(error.value).startswith(f"NEXIOM_VAULT_KEYS: key v1 is not random ({weakness})")
    assert base64.b64encode(key).decode() not in str(error.value)


def test_the_dockerfile_placeholder_is_refused():
    with pytest.raises(VaultMisconfigured, match="key v1 is not random \\(all zeros\\)"):
        keyring_parse(f"1:{DOCKERFILE_PLACEHOLDER}")


def test_random_keys_are_never_called_weak():
    assert [key_weakness(os.urandom(32)) for _ in range(2000)] == [None] * 2000


def test_production_start_up_stops_on_the_published_placeholder():
    result = _start(f"1:{DOCKERFILE_PLACEHOLDER}")

    assert result.returncode != 0
    assert "VaultMisconfigured: NEXIOM_VAULT_KEYS: key v1 is not random (all zeros)" in (
        result.stderr
    )


def test_no_image_or_workflow_file_carries_a_vault_key():
    shipped = [REPO / "docker" / "Dockerfile", REPO / "docker" / "compose.yaml"]
    shipped += sorted((REPO / ".github" / "workflows").glob("*.yml"))

    for path in shipped:
        text = path.read_text()
        assert DOCKERFILE_PLACEHOLDER not in text, path
        # Any "NEXIOM_VAULT_KEYS=<version>:<literal>" is a key someone can read.
        assert not re.search(r"NEXIOM_VAULT_KEYS[=:]\s*[0-9]+:[A-Za-z0-9+/_-]{8}", text), path
