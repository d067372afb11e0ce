"""`make bench`: every figure of the run in one table at the end, kept under var/bench/."""

from __future__ import annotations

from tests.benchmarks import report


def pytest_terminal_summary(terminalreporter) -> None:
    if not report.FIGURES:
        return
    json_path, md_path = report.report_write(report.FIGURES)
    write = terminalreporter.write_line
    write("")
    write(f"make bench: {len(report.FIGURES)} figures, each against what the same run measured")
    for line in report.table_text(report.FIGURES).splitlines():
        write(line)
    root = report.ROOT
    write(f"written to {json_path.relative_to(root)} and {md_path.relative_to(root)}")
    write("compare with the run before: make bench-compare")
