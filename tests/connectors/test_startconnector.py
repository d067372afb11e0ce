"""``manage.py startconnector``: the skeleton it writes passes the standard suite as written.

Each generated connector goes into a temporary directory (``--target``),
which a child pytest gets on its ``PYTHONPATH``; the suite there starts the
generated sandbox as a process and loads the Connector class directly, so no
entry point is needed. Refusals write nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from connectors.sdk.testing import ROOT

PACKAGE_FILES = [
    "__init__.py",
    "client.py",
    "connector.py",
    "sandbox/__init__.py",
    "sandbox/__main__.py",
    "sandbox/app.py",
]


def startconnector(*args: str) -> str:
    out = StringIO()
    call_command("startconnector", *args, stdout=out)
    return out.getvalue()


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def run_child(*command: str, target: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.parametrize("auth", ["api_key", "oauth2"])
def test_the_generated_connector_passes_the_standard_suite_and_ruff(tmp_path, auth):
    output = startconnector("acme_tms", "--auth", auth, "--target", str(tmp_path))

    assert files_under(tmp_path) == sorted(
        [f"acme_tms/{name}" for name in PACKAGE_FILES] + ["tests/test_contract_acme_tms.py"]
    )
    assert '[project.entry-points."nexiom.connectors"]' in output
    assert 'acme_tms = "acme_tms.connector:AcmeTms"' in output
    assert "make venv" in output and "pip install -e" in output
    lint = run_child("ruff", "check", "--config", "pyproject.toml", str(tmp_path), target=tmp_path)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatted = run_child(
        "ruff", "format", "--check", "--config", "pyproject.toml", str(tmp_path), target=tmp_path
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr

    suite = run_child(
        "pytest",
        "-c",
        "pyproject.toml",
        "--no-cov",
        "-p",
        "no:cacheprovider",
        "-rs",
        str(tmp_path / "tests" / "test_contract_acme_tms.py"),
        target=tmp_path,
    )

    report = suite.stdout + suite.stderr
    assert suite.returncode == 0, report
    assert " failed" not in report and " error" not in report, report
    passed = int(report.rsplit(" passed", 1)[0].rsplit(" ", 1)[-1])
    assert passed >= 13, report
    # Skipped, each with its reason: not installed (no entry point in a temporary
    # directory), no parser yet, and, for an API key, nothing to revoke.
    assert "acme_tms is not installed" in report
    assert "declares no parser" in report


def test_the_skeleton_lints_clean_with_the_longest_name(tmp_path):
    name = "a" * 24
    (tmp_path / "o").mkdir()
    (tmp_path / "k").mkdir()

    startconnector(name, "--auth", "oauth2", "--target", str(tmp_path / "o"), "--port", "9600")
    startconnector(name, "--target", str(tmp_path / "k"))

    for target in (tmp_path / "o", tmp_path / "k"):
        lint = run_child("ruff", "check", "--config", "pyproject.toml", str(target), target=target)
        assert lint.returncode == 0, lint.stdout
    assert "--port 9600" in (tmp_path / "o" / name / "sandbox" / "__init__.py").read_text()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Acme", "not a lowercase Python identifier"),
        ("acme-tms", "not a lowercase Python identifier"),
        ("9lives", "not a lowercase Python identifier"),
        ("class", "not a lowercase Python identifier"),
        ("a" * 25, "at most 24 characters"),
        ("quickbooks", "already an installed connector"),
        ("requests", "would shadow the existing package requests"),
        ("json", "would shadow the existing package json"),
        ("connectors", "would shadow the existing package connectors"),
    ],
)
def test_refused_names_write_nothing(tmp_path, name, reason):
    with pytest.raises(CommandError, match=reason):
        startconnector(name, "--target", str(tmp_path))

    assert files_under(tmp_path) == []


def test_a_name_of_a_connectors_subpackage_is_refused_in_the_repository():
    before = files_under(ROOT / "connectors" / "sdk")

    with pytest.raises(CommandError, match=r"shadow the existing package connectors\.sdk"):
        startconnector("sdk")

    assert files_under(ROOT / "connectors" / "sdk") == before
    assert not (ROOT / "tests" / "connectors" / "test_contract_sdk.py").exists()


def test_an_existing_connector_directory_or_test_is_refused(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_contract_acme_tms.py").write_text("# mine\n")

    with pytest.raises(CommandError, match="exists already"):
        startconnector("acme_tms", "--target", str(tmp_path))

    assert files_under(tmp_path) == ["tests/test_contract_acme_tms.py"]
    assert (tmp_path / "tests" / "test_contract_acme_tms.py").read_text() == "# mine\n"


def test_a_missing_target_is_refused(tmp_path):
    with pytest.raises(CommandError, match="is not a directory"):
        startconnector("acme_tms", "--target", str(tmp_path / "nowhere"))

    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("auth", ["api_key", "oauth2"])
def test_inside_the_repository_the_files_lint_clean_where_they_would_go(tmp_path, auth):
    # Writing into the shared working tree would disturb others: lint the rendered files
    # in a miniature of it instead (same ruff configuration, same paths), since ruff's
    # import order depends on where a module lives.
    from connectors.management.commands.startconnector import Command

    files = Command()._render(name="acme_tms", auth=auth, package="connectors.acme_tms", port=9510)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    for package in ("connectors", "connectors/sdk"):
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "connectors" / "sdk" / "testing.py").write_text("")
    (tmp_path / "connectors" / "sdk" / "contract.py").write_text("")
    texts = {Path("connectors/acme_tms") / path: text for path, text in files["package"].items()}
    texts[Path("tests/connectors/test_contract_acme_tms.py")] = files["test"]
    for path, text in texts.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)

    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "."],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert "from connectors.acme_tms.connector import AcmeTms" in files["test"]
    connector_text = files["package"][Path("connector.py")]
    assert 'sandbox_module = "connectors.acme_tms.sandbox"' in connector_text
