"""One table for every figure `make bench` measures, kept as JSON and Markdown.

Each benchmark calls ``figure_add`` for what it measured (with what it is
compared to, when the comparison was measured in the same run). At the end
of the session ``tests/benchmarks/conftest.py`` prints the whole table once
and writes it under ``var/bench/`` as ``bench-<UTC time>.json`` and ``.md``,
so that ``make bench-compare`` (``scripts/bench_compare.py``) can put the last
two runs side by side.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / "var" / "bench"
HEADER = ("area", "measure", "figure", "against (same run)", "ratio", "target")


@dataclass(frozen=True)
class Figure:
    area: str
    measure: str
    #: The number compared between runs (bench-compare), in ``unit``.
    value: float
    unit: str
    #: How the table shows it; by default the value and its unit.
    shown: str = ""
    against: str = ""
    ratio: float | None = None
    target: str = ""
    #: Whether the target was met; None when the figure has no target.
    met: bool | None = None

    def cells(self) -> tuple[str, ...]:
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}x"
        verdict = {None: "", True: " (met)", False: " (NOT met)"}[self.met]
        return (
            self.area,
            self.measure,
            self.shown or f"{self.value:,.1f} {self.unit}",
            self.against,
            ratio,
            (self.target + verdict).strip(),
        )


FIGURES: list[Figure] = []


def figure_add(area: str, measure: str, value: float, unit: str, **details) -> Figure:
    """Record one figure of this run (see ``Figure`` for the details a figure may carry)."""
    figure = Figure(area=area, measure=measure, value=float(value), unit=unit, **details)
    FIGURES.append(figure)
    print(f"[bench] {' | '.join(cell for cell in figure.cells() if cell)}", flush=True)
    return figure


def table_text(figures: list[Figure]) -> str:
    rows = [HEADER, *(f.cells() for f in figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def table_markdown(figures: list[Figure]) -> str:
    def line(cells) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    rows = [line(HEADER), line(["---"] * len(HEADER))]
    rows += [line(f.cells()) for f in figures]
    return "\n".join(rows)


def run_facts() -> dict[str, str | int]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit or "unknown",
        "cpus": os.cpu_count() or 0,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def report_write(figures: list[Figure], directory: Path = BENCH_DIR) -> tuple[Path, Path]:
    """The run as ``bench-<time>.json`` and ``.md``; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    facts = run_facts()
    stem = "bench-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    data = {"run": facts, "figures": [asdict(f) for f in figures]}
    json_path = directory / f"{stem}.json"
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    md_path = directory / f"{stem}.md"
    summary = ", ".join(f"{k} {v}" for k, v in facts.items())
    md_path.write_text(f"# make bench\n\n{summary}\n\n{table_markdown(figures)}\n")
    return json_path, md_path
