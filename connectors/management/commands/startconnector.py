"""python manage.py startconnector NAME [--auth api_key|oauth2] [--target DIR] [--port N]

Writes a new connector that passes the standard connector suite as written:
the package (``connector.py`` with an ``ApiKey`` or ``OAuth2`` credential,
``client.py``, and ``sandbox/``, a small aiohttp sandbox on
``connectors.sandbox_kit``) and its test module inheriting
``connectors.sdk.contract.ConnectorContract``. The files come from the
templates in ``connectors/sdk/skeleton/`` (its README lists the placeholders).

By default the package is ``connectors/<name>/`` and the test
``tests/connectors/test_contract_<name>.py`` in this repository. With
``--target DIR`` they are ``DIR/<name>/`` and ``DIR/tests/test_contract_<name>.py``
and the package is imported as ``<name>`` (``DIR`` on the path).

A name that is not a lowercase Python identifier, that an installed
connector or an importable package already uses, or whose files exist, is
refused, and then nothing is written. The command does not edit
pyproject.toml: it prints the entry-point line to add (the registry finds
connectors only through entry points, and a person should see that edit).
"""

from __future__ import annotations

import importlib.util
import keyword
import re
from pathlib import Path
from string import Template

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.registry import ENTRY_POINT_GROUP, connectors_installed

ROOT = Path(__file__).resolve().parents[3]
SKELETON = ROOT / "connectors" / "sdk" / "skeleton"
AUTH_CHOICES = ("api_key", "oauth2")
DEFAULT_PORT = 9510
_NAME = re.compile(r"[a-z][a-z0-9_]*")
#: Longer keys make unwieldy class names, env variables and (in the templates) long lines.
MAX_NAME = 24


def _test_imports(*, package: str, class_name: str) -> str:
    """The generated test module's imports, in the order ruff's isort wants.

    Inside this repository the package (``connectors.<name>``) is first-party
    like ``connectors.sdk``: one block, sorted by module. Elsewhere it is
    third-party to this project's ruff configuration, so its block comes first.
    """
    suite = "from connectors.sdk.contract import ConnectorContract"
    own = [
        f"from {package}.connector import {class_name}",
        f"from {package}.sandbox.app import {{names}}",
    ]
    if package.startswith("connectors."):
        return "\n".join(sorted([suite, *own]))
    return "\n".join(own) + "\n\n" + suite


class Command(BaseCommand):
    help = "Write a new connector (package, sandbox, standard test suite) that passes as written."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the connector key and package name, e.g. acme_tms")
        parser.add_argument("--auth", choices=AUTH_CHOICES, default="api_key")
        parser.add_argument(
            "--target",
            metavar="DIR",
            help="write DIR/<name>/ and DIR/tests/ instead of connectors/<name>/ and "
            "tests/connectors/ of this repository",
        )
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="the sandbox's port")

    def handle(self, *args, name: str, auth: str, target: str | None, port: int, **options):
        package, package_dir, test_path = self._places(name, target)
        files = self._render(name=name, auth=auth, package=package, port=port)
        planned = {package_dir / relative: text for relative, text in files["package"].items()}
        planned[test_path] = files["test"]
        self._write(planned)

        shown = [self._shown(path) for path in planned]
        self.stdout.write(f"Wrote connector {name} ({auth}):\n  " + "\n  ".join(shown))
        self.stdout.write(
            "\nNext:\n"
            f'  1. Add this line under [project.entry-points."{ENTRY_POINT_GROUP}"] '
            "in pyproject.toml:\n"
            f'         {name} = "{package}.connector:{self._class_name(name)}"\n'
            "  2. Refresh the entry points: make venv  (or: .venv/bin/pip install -e '.[dev]')\n"
            f"  3. Run its standard suite: .venv/bin/pytest {self._shown(test_path)}\n"
            f"  4. Try its sandbox: python -m {package}.sandbox --port {port}\n"
        )

    # --- where, and refusals ----------------------------------------------------------------

    def _places(self, name: str, target: str | None) -> tuple[str, Path, Path]:
        """(import path, package directory, test module) or a CommandError saying why not."""
        if not _NAME.fullmatch(name) or keyword.iskeyword(name) or len(name) > MAX_NAME:
            raise CommandError(
                f"{name!r} is not a lowercase Python identifier of at most {MAX_NAME} characters "
                "(letters, digits, underscores, starting with a letter); it becomes the package "
                "name and the connector key."
            )
        if name in connectors_installed():
            raise CommandError(f"{name!r} is already an installed connector.")
        if target is None:
            package = f"connectors.{name}"
            package_dir = ROOT / "connectors" / name
            test_path = ROOT / "tests" / "connectors" / f"test_contract_{name}.py"
        else:
            base = Path(target).resolve()
            if not base.is_dir():
                raise CommandError(f"--target {target} is not a directory.")
            package, package_dir = name, base / name
            test_path = base / "tests" / f"test_contract_{name}.py"
        # connectors.sdk, connectors.services, ...; or a top-level json, requests, ...
        if importlib.util.find_spec(package) is not None:
            raise CommandError(f"{name!r} would shadow the existing package {package}.")
        for path in (package_dir, test_path):
            if path.exists():
                raise CommandError(f"{path} exists already; nothing was written.")
        return package, package_dir, test_path

    # --- rendering --------------------------------------------------------------------------

    @staticmethod
    def _class_name(name: str) -> str:
        return "".join(part.capitalize() for part in name.split("_") if part)

    def _render(self, *, name: str, auth: str, package: str, port: int) -> dict:
        """Every file's text, rendered before anything is written (a template error writes
        nothing)."""
        class_name = self._class_name(name)
        imports = _test_imports(package=package, class_name=class_name).replace(
            "{names}", "DEFAULT_API_KEY, error_body" if auth == "api_key" else "error_body"
        )
        values = {
            "key": name,
            "key_upper": name.upper(),
            "Class": class_name,
            "title": " ".join(part.capitalize() for part in name.split("_") if part),
            "slug": name.replace("_", "-"),
            "package": package,
            "port": str(port),
            "imports": imports,
        }
        rendered: dict[Path, str] = {}
        others = [choice for choice in AUTH_CHOICES if choice != auth]
        for template in sorted((SKELETON / "package").rglob("*.tmpl")):
            relative = template.relative_to(SKELETON / "package")
            stem = relative.name.removesuffix(".tmpl")
            if any(stem.endswith(f"_{other}.py") for other in others):
                continue
            stem = stem.replace(f"_{auth}.py", ".py")
            rendered[relative.with_name(stem)] = Template(template.read_text()).substitute(values)
        test_template = SKELETON / f"test_contract_{auth}.py.tmpl"
        return {
            "package": rendered,
            "test": Template(test_template.read_text()).substitute(values),
        }

    def _write(self, planned: dict[Path, str]) -> None:
        """Write every file; if one fails, remove what this run wrote."""
        written: list[Path] = []
        try:
            for path, text in planned.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("x") as handle:  # "x": never overwrite
                    handle.write(text)
                written.append(path)
        except OSError as exc:
            for path in reversed(written):
                path.unlink(missing_ok=True)
            raise CommandError(f"could not write {path}: {exc}; nothing was kept.") from exc

    @staticmethod
    def _shown(path: Path) -> str:
        return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
