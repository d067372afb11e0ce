"""`scripts/respawn.py`, which keeps the Procfile's workers up under `make up`: an exit on
its own is followed by a new start; a stop request is passed on and ends it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESPAWN = str(ROOT / "scripts" / "respawn.py")

# Each start appends a line; the first start dies at once (as a worker does after a Redis
# restart), the later ones keep running until they are told to stop.
CHILD = """
import pathlib, sys, time
runs = pathlib.Path(sys.argv[1])
with runs.open("a") as f:
    f.write("run\\n")
if len(runs.read_text().splitlines()) == 1:
    sys.exit(3)
time.sleep(60)
"""


def _wait_for(condition, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_an_exit_on_its_own_starts_it_again_and_sigterm_stops_both(tmp_path: Path):
    runs = tmp_path / "runs"
    wrapper = subprocess.Popen(
        [sys.executable, RESPAWN, sys.executable, "-c", CHILD, str(runs)],
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: runs.exists() and len(runs.read_text().splitlines()) == 2)

    wrapper.send_signal(signal.SIGTERM)
    assert wrapper.wait(10) == 128 + signal.SIGTERM  # the child's end, as a shell reports it
    assert "exited with 3 on its own; starting it again" in wrapper.stderr.read()
    assert len(runs.read_text().splitlines()) == 2


def test_a_command_that_keeps_dying_is_given_up_on(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, RESPAWN, sys.executable, "-c", "import sys; sys.exit(4)"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 4
    assert "exited 6 times within 60 s; giving up" in done.stderr
