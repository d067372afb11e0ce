"""`python manage.py test` hands over to pytest, so both run the same suite.

pytest runs in a child process: this one has already configured Django with
the development settings, and the suite needs its own (nexiom.settings_test).
"""

from __future__ import annotations

import os
import subprocess
import sys


class PytestTestRunner:
    def __init__(self, verbosity: int = 1, failfast: bool = False, keepdb: bool = False, **_):
        self.verbosity = verbosity
        self.failfast = failfast
        self.keepdb = keepdb

    @classmethod
    def add_arguments(cls, parser) -> None:
        parser.add_argument("--keepdb", action="store_true", help="reuse the test database")

    def run_tests(self, test_labels: list[str], **_) -> int:
        args = list(test_labels)
        if self.verbosity == 0:
            args.append("--quiet")
        elif self.verbosity > 1:
            args.append("-" + "v" * (self.verbosity - 1))
        if self.failfast:
            args.append("--exitfirst")
        if self.keepdb:
            args.append("--reuse-db")
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        return subprocess.call([sys.executable, "-m", "pytest", *args], env=env)  # noqa: S603


if __name__ == "__main__":  # pragma: no cover
    sys.exit(PytestTestRunner().run_tests(sys.argv[1:]))
