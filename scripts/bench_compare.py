"""`make bench-compare`: the last two `make bench` runs (var/bench/*.json) side by side.

Figures are matched by area and measure; the change is new against old, in
percent of the old value. Pass two JSON paths to compare other runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[1] / "var" / "bench"


def _load(path: Path) -> tuple[dict, dict[tuple[str, str], dict]]:
    data = json.loads(path.read_text())
    return data["run"], {(f["area"], f["measure"]): f for f in data["figures"]}


def _shown(figure: dict | None) -> str:
    if figure is None:
        return "-"
    return figure.get("shown") or f"{figure['value']:,.1f} {figure['unit']}"


def _change(old: dict | None, new: dict | None) -> str:
    if not old or not new or not old["value"]:
        return ""
    return f"{(new['value'] - old['value']) / abs(old['value']) * 100:+.1f}%"


def compare(old_path: Path, new_path: Path) -> str:
    old_run, old = _load(old_path)
    new_run, new = _load(new_path)
    keys = list(old) + [key for key in new if key not in old]
    rows = [("area", "measure", f"old ({old_path.name})", f"new ({new_path.name})", "change")]
    for key in keys:
        rows.append(
            (*key, _shown(old.get(key)), _shown(new.get(key)), _change(old.get(key), new.get(key)))
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    head = [
        f"old: {old_run.get('finished')} commit {old_run.get('commit')}",
        f"new: {new_run.get('finished')} commit {new_run.get('commit')}",
        "",
    ]
    return "\n".join(head + lines)


def main(argv: list[str]) -> int:
    if len(argv) == 2:
        old_path, new_path = (Path(a) for a in argv)
    else:
        runs = sorted(BENCH_DIR.glob("bench-*.json"))
        if len(runs) < 2:
            print(
                f"bench-compare needs two runs of `make bench` in {BENCH_DIR}; found {len(runs)}."
            )
            return 1
        old_path, new_path = runs[-2], runs[-1]
    print(compare(old_path, new_path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
