"""The size and layering limits of DESIGN.md, checked on the source rather than left to review.

- a view function is at most 30 lines (decorators excluded): parse, call a service, commit, render;
- a module under app/ is at most 400 lines (split by concept before that);
- a `queries.py` module only reads: no session writes, no INSERT/UPDATE/DELETE, no Redis.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from app.config import ROOT

APP = ROOT / "app"
MAX_VIEW_LINES = 30
MAX_MODULE_LINES = 400
# Large data modules are content, not code.
MODULE_SIZE_EXEMPT = {"app/demo/content.py"}
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}
WRITE_CALLS = {"add", "add_all", "delete", "commit", "flush", "merge", "bulk_save_objects"}
WRITE_CONSTRUCTS = {"insert", "update", "delete"}


def _modules() -> Iterator[Path]:
    yield from sorted(APP.rglob("*.py"))


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _is_route(node: ast.FunctionDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in ROUTE_DECORATORS:
            return True
    return False


def test_view_functions_are_short() -> None:
    long_views = []
    for path in _modules():
        if not path.name.startswith("views") and path.parent.name != "views":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and _is_route(node):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_VIEW_LINES:
                    long_views.append(
                        f"{_relative(path)}:{node.lineno} {node.name} ({lines} lines)"
                    )
    assert long_views == [], "views over 30 lines:\n" + "\n".join(long_views)


def test_modules_stay_under_400_lines() -> None:
    big = [
        f"{_relative(p)} ({n} lines)"
        for p in _modules()
        if _relative(p) not in MODULE_SIZE_EXEMPT
        and (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    assert big == [], "modules over 400 lines (split by concept):\n" + "\n".join(big)


def _writes(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if node.func.attr in WRITE_CALLS and ast.unparse(owner).endswith("session"):
                yield node.lineno, ast.unparse(node.func)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and (node.func.id in WRITE_CONSTRUCTS or node.func.id == "get_redis")
        ):
            yield node.lineno, node.func.id
        if isinstance(node, ast.ImportFrom) and node.module:
            names = {alias.name for alias in node.names}
            if node.module.startswith("sqlalchemy") and names & WRITE_CONSTRUCTS:
                yield node.lineno, f"import of {sorted(names & WRITE_CONSTRUCTS)}"
            if "get_redis" in names:
                yield node.lineno, "import of get_redis"


def test_queries_modules_only_read() -> None:
    found = [
        f"{_relative(path)}:{line} {what}"
        for path in _modules()
        if path.name == "queries.py"
        for line, what in _writes(ast.parse(path.read_text()))
    ]
    assert found == [], "queries.py must only read (DESIGN.md):\n" + "\n".join(found)


def test_the_checks_can_fail() -> None:
    """Each detector finds what it is meant to find in a small sample."""
    sample = ast.parse(
        "from sqlalchemy import update\n"
        "def f():\n    db.session.add(x)\n    get_redis().set('k', 1)\n"
    )
    assert [what for _line, what in _writes(sample)] != []
    view = ast.parse("@bp.get('/x')\ndef v():\n" + "    pass\n" * 40).body[0]
    assert isinstance(view, ast.FunctionDef) and _is_route(view)


# Reading a fresh row after another process committed, or cleaning up after a failed check:
# rollbacks that end a read, not a unit of work.
ROLLBACK_ALLOWED = {
    "app/core/health.py",
    "app/core/web.py",
    "app/jobs/worker.py",
    "app/payments/cli.py",
}


def test_entry_points_commit_only_through_committing() -> None:
    """Views, jobs and CLI commands commit once, through app.core.unit.committing."""
    found = []
    for path in _modules():
        rel = _relative(path)
        if rel == "app/core/unit.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name == "commit" or (name == "rollback" and rel not in ROLLBACK_ALLOWED):
                found.append(f"{rel}:{node.lineno} {ast.unparse(node.func)}()")
    assert found == [], "commit through `with committing():` instead:\n" + "\n".join(found)
