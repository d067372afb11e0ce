"""`make bench` and `make chaos` stay out of `make test`, but must not rot there: an import
that breaks them fails here, in CI, not on the day someone runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("suite", ["tests/benchmarks", "tests/chaos"])
def test_the_slow_suites_import_and_collect(suite: str):
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", suite, "--collect-only", "-q"),
            *("-p", "no:cacheprovider", "--no-cov", "-o", f"testpaths={suite}"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "error" not in done.stdout.lower().splitlines()[-1]
