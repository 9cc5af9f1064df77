"""The package's architecture, as a contract the test suite enforces (AST scan of src/vulnmark).

* Layers: a module may import its own layer and the layers below it, never one above::

      cli, testing                        front ends (and the emulators shipped for users)
      control, triage, intake, incident,  what runs the control and what people do with findings
      publish
      check, report, deliver,             the pipeline stages after the store
      evidence.pack
      sources, store                      where tickets come from and where everything is kept
      config, evidence, check.infer       foundations: settings and policy, the evidence
                                          vocabulary (typed events, the hash chain), and text
                                          inference (a pure function of a ticket and a policy)
      model, errors, _time, _csv,         records and the one helper of each kind
      _version

* No import cycles between modules (lazy imports included; importing ``a.b.c`` also runs the
  ``__init__`` of ``a.b``, so that counts as an import of ``a.b`` too).
* ``store/`` is the only package that imports SQLAlchemy or Alembic, imports the table
  definitions, or holds SQL text.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "vulnmark"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("vulnmark", "vulnmark.__main__", "vulnmark.cli", "vulnmark.testing"),
    ("vulnmark.control", "vulnmark.triage", "vulnmark.intake", "vulnmark.incident",
     "vulnmark.publish"),
    ("vulnmark.check", "vulnmark.report", "vulnmark.deliver", "vulnmark.evidence.pack"),
    ("vulnmark.sources", "vulnmark.store"),
    ("vulnmark.config", "vulnmark.evidence", "vulnmark.check.infer"),
    ("vulnmark.model", "vulnmark.model_incident", "vulnmark.errors", "vulnmark._time",
     "vulnmark._csv", "vulnmark._files", "vulnmark._version"),
)



def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((SRC / ROOT).rglob("*.py"))}


def _is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _resolve(name: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = name if _is_package(name) else name.rpartition(".")[0]
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    return f"{base}.{node.module}" if node.module else base


def _type_checking_only(tree: ast.AST) -> set[int]:
    """The import statements inside ``if TYPE_CHECKING:`` blocks."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            found |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return found


@cache
def _tree(name: str) -> ast.Module:
    return ast.parse(modules()[name].read_text(encoding="utf-8"))


@cache
def _imports(name: str, *, typing: bool = True) -> tuple[str, ...]:
    """Every module ``name`` imports, at any depth (lazy imports too); ``typing=False`` leaves
    out the imports only type checkers run."""
    tree = _tree(name)
    skip = set() if typing else _type_checking_only(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, node)
            for alias in node.names:  # a submodule, or a name defined in ``target``
                sub = f"{target}.{alias.name}"
                found.append(sub if sub in modules() else target)
    return tuple(found)


def _ancestors(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


@cache
def graph(typing: bool = True, implicit: bool = False) -> dict[str, frozenset[str]]:
    """Module -> the vulnmark modules it imports; with ``implicit``, also the packages whose
    ``__init__`` runs first (they matter for cycles, not for layers), except the module's own
    ancestors: they are already imported (or being imported) when the module runs."""
    out: dict[str, frozenset[str]] = {}
    for name in modules():
        targets: set[str] = set()
        for imported in _imports(name, typing=typing):
            while imported and imported not in modules():
                imported = imported.rpartition(".")[0]  # a name imported from a module
            if imported != ROOT and not imported.startswith(ROOT + "."):
                continue
            targets.add(imported)  # a module, or a package whose __init__ gives a name
            if implicit:
                targets |= _ancestors(imported) - _ancestors(name) - {ROOT}
        out[name] = frozenset(targets - {name})
    return out


def _owner(name: str, prefixes: tuple[str, ...]) -> str | None:
    found = [p for p in prefixes if name == p or (p != ROOT and name.startswith(p + "."))]
    return max(found, key=len) if found else None


def layer(name: str) -> int:
    """0 for the top layer."""
    owner = _owner(name, tuple(p for ps in LAYERS for p in ps))
    assert owner is not None, f"{name} is in no layer: add it to LAYERS"
    return next(i for i, ps in enumerate(LAYERS) if owner in ps)


def test_every_module_has_a_layer() -> None:
    for name in modules():
        layer(name)


def test_dependencies_point_one_way() -> None:
    upward = {(a, b) for a, targets in graph().items() for b in targets
              if layer(b) < layer(a)}
    assert upward == set(), "imports that point upward"


def _cycles(g: dict[str, frozenset[str]] | None = None) -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively), of the
    imports that run (``if TYPE_CHECKING:`` imports do not)."""
    g = g if g is not None else graph(typing=False, implicit=True)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    counter = 0
    for start in sorted(g):
        if start in index:
            continue
        work = [(start, iter(sorted(g[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(g[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.add(frozenset(component))
    return found


def test_no_import_cycles() -> None:
    assert _cycles() == set(), "import cycles"


STORE = "vulnmark.store"
_TABLE_MODULES = ("vulnmark.store.schema", "vulnmark.store.driver", "vulnmark.store.engine",
                  "vulnmark.store.migrations")


def _outside_store() -> list[str]:
    return [m for m in modules() if _owner(m, (STORE,)) is None]


def test_only_the_store_imports_sqlalchemy_and_the_tables() -> None:
    found = set()
    for name in _outside_store():
        for imported in _imports(name):
            top = imported.split(".")[0]
            if top in ("sqlalchemy", "alembic") or _owner(imported, _TABLE_MODULES):
                found.add(name)
    assert found == set(), "SQLAlchemy or the tables outside store/"


_SQL = re.compile(r"^\s*(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+|"
                  r"DROP\s+|ALTER\s+)|\bSELECT\b.*\bFROM\b|\bWHERE\b.*[=<>?]")


def _strings(tree: ast.AST) -> Iterator[str]:
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef |
                                ast.AsyncFunctionDef)
                  and n.body and isinstance(n.body[0], ast.Expr)
                  and isinstance(n.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in docstrings:
            yield node.value


def test_only_the_store_holds_sql() -> None:
    found = set()
    for name in _outside_store():
        if any(_SQL.search(s) for s in _strings(_tree(name))):
            found.add(name)
    assert found == set(), "SQL text outside store/"


@pytest.mark.parametrize("text", ["SELECT key FROM tickets", "DELETE FROM x WHERE key = ?",
                                  "INSERT INTO evaluations (a) VALUES (?)",
                                  "n_findings > 0 AND state = 'open' WHERE due_at <= ?"])
def test_the_sql_scan_sees_sql(text: str) -> None:
    assert _SQL.search(text)


@pytest.mark.parametrize("text", ["Select the tickets", "where it came from",
                                  "choose one of: table, json"])
def test_the_sql_scan_ignores_prose(text: str) -> None:
    assert not _SQL.search(text)


def test_the_cycle_scan_sees_a_cycle() -> None:
    g = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}),
         "d": frozenset({"a"}), "e": frozenset()}
    assert _cycles(g) == {frozenset({"a", "b", "c"})}


def test_the_layers_are_the_documented_ones() -> None:
    order = ["vulnmark.cli.app", "vulnmark.control.daily", "vulnmark.check.engine",
             "vulnmark.store.events", "vulnmark.config.load", "vulnmark.model"]
    assert [layer(m) for m in order] == sorted(layer(m) for m in order)
    assert len({layer(m) for m in order}) == len(order)
    assert layer("vulnmark.intake.feeds") == layer("vulnmark.triage.backfill")  # future ones
    assert layer("vulnmark.evidence.pack.export") == layer("vulnmark.report.html")
    assert layer("vulnmark.evidence.events") == layer("vulnmark.check.infer._read")


FEEDS = "vulnmark.intake.feeds"


def test_the_feeds_are_pure_parsers() -> None:
    """Threat-intake feeds (one module per feed under ``intake/feeds/``) read publications and
    nothing else: they import only each other and the foundations' records and errors, never
    the store, the check or the CLI, so a feed can be tested and reused on its own."""
    allowed = ("vulnmark.errors", "vulnmark.model", "vulnmark._time")
    found = {(a, b) for a, targets in graph().items() if _owner(a, (FEEDS,))
             for b in targets if not _owner(b, (FEEDS, *allowed))}
    assert found == set(), "a feed imports more than the foundations"
    assert {f"{FEEDS}.{m}" for m in ("interface", "nvd", "cve5", "kev", "osv")} <= set(modules())
