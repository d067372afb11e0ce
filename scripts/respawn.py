"""Run a command again whenever it exits on its own: ``python scripts/respawn.py CMD ARGS...``.

`make up` runs the Procfile under honcho, which stops every process as soon as
one exits. A Celery worker can exit on its own when Redis restarts (kombu 5.7
fails inside its own reconnection; `make chaos` shows it), and that must not
take the whole platform down. So the Procfile's workers run under this: an exit
that nobody asked for is logged and the command starts again (after 1 s, up to
``MAX_RESPAWNS`` times in ``WINDOW_SECONDS``, then it gives up with the
command's exit code). SIGTERM and SIGINT go to the command, and this exits with
it. In containers the orchestrator's restart policy does the same
(``docker/compose.yaml``: ``restart: unless-stopped``).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import deque

MAX_RESPAWNS = 5
WINDOW_SECONDS = 60.0
PAUSE_SECONDS = 1.0


def _say(text: str) -> None:
    print(f"respawn: {text}", file=sys.stderr, flush=True)


def main(command: list[str]) -> int:
    if not command:
        _say("usage: respawn.py COMMAND [ARGS...]")
        return 2
    stopping = False
    child: subprocess.Popen | None = None

    def forward(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    recent: deque[float] = deque()
    while True:
        # A session of its own: a stop sent to our process group (honcho signals groups)
        # reaches the command once, from us, not twice.
        child = subprocess.Popen(command, start_new_session=True)  # noqa: S603 - the Procfile's
        code = child.wait()
        if code < 0:  # ended by a signal: report it the way a shell does
            code = 128 - code
        if stopping:
            return code
        now = time.monotonic()
        recent.append(now)
        while recent and now - recent[0] > WINDOW_SECONDS:
            recent.popleft()
        if len(recent) > MAX_RESPAWNS:
            _say(
                f"{command[0]} exited {len(recent)} times within {WINDOW_SECONDS:.0f} s; giving up"
            )
            return code or 1
        _say(f"{command[0]} exited with {code} on its own; starting it again")
        time.sleep(PAUSE_SECONDS)
        if stopping:
            return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
