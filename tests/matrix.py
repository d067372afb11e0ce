"""The vocabulary of role x endpoint tables (``tests/*/test_role_matrix.py``).

A table is a list of ``Row``s: a method, a path with ``{placeholders}`` each
test fills, and the status every actor must get. Each table prints itself
(``python -m tests.<app>.test_role_matrix``) as the documentation of who may
do what.
"""

from __future__ import annotations

from dataclasses import dataclass

ANON, VIEWER, EDITOR, ADMIN = "anonymous", "Viewer", "Editor", "Admin"
ACTORS = [ANON, VIEWER, EDITOR, ADMIN]


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expected: dict[str, int]
    body: dict | None = None


def everyone(code: int, anon: int = 401) -> dict[str, int]:
    return {ANON: anon, VIEWER: code, EDITOR: code, ADMIN: code}


def admin_only(admin: int, others: int = 403) -> dict[str, int]:
    return {ANON: 401, VIEWER: others, EDITOR: others, ADMIN: admin}


def editors(code: int, viewer: int = 403) -> dict[str, int]:
    """Editors and Admins may; Viewers are refused; anonymous callers must sign in."""
    return {ANON: 401, VIEWER: viewer, EDITOR: code, ADMIN: code}


def render(matrix: list[Row]) -> str:
    width = max(len(f"{r.method} {r.path}") for r in matrix)
    lines = [f"{'endpoint':<{width}}  " + "  ".join(f"{a:>9}" for a in ACTORS)]
    for row in matrix:
        cells = "  ".join(f"{row.expected[a]:>9}" for a in ACTORS)
        lines.append(f"{row.method + ' ' + row.path:<{width}}  {cells}")
    return "\n".join(lines)
