"""`make bench` keeps each run as JSON and Markdown; `make bench-compare` puts two side by side."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from tests.benchmarks.report import Figure, report_write, table_markdown, table_text

ROOT = Path(__file__).resolve().parents[2]


def _compare_module():
    spec = importlib.util.spec_from_file_location(
        "bench_compare", ROOT / "scripts/bench_compare.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _figures(gateway: float, extra: bool = False) -> list[Figure]:
    figures = [
        Figure(
            "pipeline",
            "gateway acks/s",
            gateway,
            "/s",
            shown=f"{gateway:,.0f}/s",
            against="floor 400/s",
            ratio=gateway / 400,
            target=">= 0.8x",
            met=gateway / 400 >= 0.8,
        ),
        Figure("vault", "seal | reveal", 1500.0, "/s"),
    ]
    if extra:
        figures.append(Figure("history", "API list p95", 12.5, "ms"))
    return figures


def test_a_run_is_kept_as_json_and_markdown(tmp_path: Path):
    json_path, md_path = report_write(_figures(300.0), tmp_path)

    data = json.loads(json_path.read_text())
    assert data["run"]["cpus"] >= 1 and data["run"]["commit"]
    assert [f["measure"] for f in data["figures"]] == ["gateway acks/s", "seal | reveal"]
    assert data["figures"][0]["met"] is False
    markdown = md_path.read_text()
    assert (
        "| pipeline | gateway acks/s | 300/s | floor 400/s | 0.75x | >= 0.8x (NOT met) |"
        in markdown
    )
    assert "seal \\| reveal" in markdown  # a pipe in a measure does not break the table


def test_the_table_lines_up_and_says_whether_targets_are_met():
    text = table_text(_figures(360.0)).splitlines()
    assert text[0].startswith("area") and set(text[1]) <= {"-", " "}
    assert "0.90x" in text[2] and ">= 0.8x (met)" in text[2]
    assert "1,500.0 /s" in text[3]
    assert table_markdown([]).count("\n") == 1  # header and rule only


def test_compare_shows_the_last_two_runs_with_the_change(tmp_path: Path, capsys):
    old_json, _ = report_write(_figures(300.0), tmp_path / "a")
    new_json, _ = report_write(_figures(330.0, extra=True), tmp_path / "b")
    compare = _compare_module()

    assert compare.main([str(old_json), str(new_json)]) == 0
    out = capsys.readouterr().out
    gateway = next(line for line in out.splitlines() if "gateway acks/s" in line)
    assert "300/s" in gateway and "330/s" in gateway and "+10.0%" in gateway
    added = next(line for line in out.splitlines() if "API list p95" in line)
    assert added.split()[-2:] == ["12.5", "ms"]  # only in the new run: "-" before it
    assert " - " in added


def test_compare_without_two_runs_says_so(tmp_path: Path, capsys, monkeypatch):
    compare = _compare_module()
    monkeypatch.setattr(compare, "BENCH_DIR", tmp_path)
    assert compare.main([]) == 1
    assert "needs two runs" in capsys.readouterr().out
