"""Layering rules, checked on the source with ``ast``.

* the library never imports Streamlit;
* pages (and app.py) hold no SQL: every query lives in the library;
* ``danvan_scoring`` has no import cycle, counting imports inside functions too
  (an import moved into a function to dodge a cycle is still a cycle);
* the import direction: reading files (``tabular``) knows nothing of ingest rules, the store,
  scoring or results; pure scoring knows nothing of the store; nothing in the library imports
  the CLI.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "danvan_scoring"
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b",
                 re.S)


def _imports(path: Path) -> set[str]:
    """Library modules a file imports (``from . import x``, ``from .x import y``, ``danvan_scoring.x``),
    except under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for b in node.body for n in ast.walk(b)}
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level == 1 or mod.startswith("danvan_scoring"):
                base = mod.removeprefix("danvan_scoring").lstrip(".")
                if base:
                    out.add(base.split(".")[0])
                else:
                    out |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("danvan_scoring."):
                    out.add(a.name.split(".")[1])
    known = {p.stem for p in LIB.glob("*.py")}
    return out & known


def _graph() -> dict[str, set[str]]:
    return {p.stem: _imports(p) - {p.stem} for p in LIB.glob("*.py") if p.stem != "__init__"}


def test_library_never_imports_streamlit():
    for p in LIB.glob("*.py"):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "streamlit" not in names, p.name


def test_pages_hold_no_sql():
    for p in [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py"))]:
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for n in ast.walk(tree):
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and SQL.search(n.value):
                pytest.fail(f"{p.relative_to(ROOT)}:{n.lineno}: SQL in a page: {n.value[:60]!r}")


def test_no_import_cycle_in_the_library():
    g = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(g.get(m, ())):
            if state.get(d) == 1:
                cycle = stack[stack.index(d):] + [d]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)


# module → library modules it must never reach, directly or through others
FORBIDDEN = {
    "permissions": {"store", "auth", "batches", "periods", "units", "ingest", "results"},
    "errors": "*",
    "text": "*",
    "tabular": {"ingest", "store", "scoring", "results", "models", "registry", "batches"},
    "scoring": {"store", "results", "ingest", "batches", "periods"},
    "tiers": {"store", "results", "ingest"},
    "ranking": {"store", "results", "ingest", "scoring"},
    "insights": {"store", "results", "ingest"},
    # the merger crosswalk is read by uploads and results, never the other way round
    "crosswalk": {"results", "ingest", "batches", "scoring", "tabular", "uploads", "model_upload"},
    # awards: the catalogue file and the proposals are pure; votes are the I/O edge
    "award_catalogue": {"store", "results", "ingest", "scoring", "batches", "periods"},
    "proposals": {"store", "results", "ingest", "batches", "periods", "votes"},
    # the document layout knows nothing of what a document says; paperwork fills it from the library
    "documents": {"store", "results", "ingest", "scoring", "votes", "paperwork", "registry"},
}


def _reach(g: dict[str, set[str]], m: str) -> set[str]:
    seen: set[str] = set()
    todo = list(g.get(m, ()))
    while todo:
        d = todo.pop()
        if d not in seen:
            seen.add(d)
            todo.extend(g.get(d, ()))
    return seen


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_import_direction(module):
    g = _graph()
    assert module in g, f"{module}.py is named in FORBIDDEN but does not exist: update the rule"
    reach = _reach(g, module)
    banned = FORBIDDEN[module]
    bad = reach if banned == "*" else reach & banned
    assert not bad, f"{module} reaches {sorted(bad)}"


def test_nothing_in_the_library_imports_the_cli():
    g = _graph()
    assert not [m for m, deps in g.items() if "cli" in deps]


BACKEND_MODULES = {"store", "pg"}


def test_only_the_store_knows_its_backend():
    """DuckDB and psycopg are imported by the store (``store``, ``pg``) only, ``pg`` by ``store`` only,
    and no other module — library, pages, app.py — asks which engine answers (``store.is_url``,
    ``store.backend``, ``PgConnection``, ``postgresql`` in code)."""
    files = [*LIB.glob("*.py"), ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py"))]
    for p in files:
        if p.parent == LIB and p.stem in BACKEND_MODULES:
            continue
        tree = ast.parse(p.read_text(encoding="utf-8"))
        names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not names & {"duckdb", "psycopg", "psycopg_pool"}, f"{p.name} imports a store engine"
        assert "pg" not in _imports(p), f"{p.name} imports the pg backend"
        for n in ast.walk(tree):
            if isinstance(n, ast.Attribute) and n.attr in {"is_url", "backend", "PgConnection"}:
                pytest.fail(f"{p.relative_to(ROOT)}:{n.lineno}: asks which store backend answers ({n.attr})")
