"""The plan of the house, checked on the import graph (grimp reads the imports; nothing runs)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "middleware")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """Every import, type-only ones (under ``TYPE_CHECKING``) included."""
    return grimp.build_graph(*PACKAGES, cache_dir=None)


@pytest.fixture(scope="module")
def runtime_graph() -> grimp.ImportGraph:
    """The imports that run."""
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)


def _ours(graph: grimp.ImportGraph) -> set[str]:
    return {m for m in graph.modules if m.split(".")[0] in PACKAGES}


def _circles(graph: grimp.ImportGraph) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    modules = _ours(graph)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & modules) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for start in sorted(modules):
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
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
                        found.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(edges[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_the_core_and_its_middleware_import_no_circle_at_runtime(runtime_graph: grimp.ImportGraph) -> None:
    assert _circles(runtime_graph) == []


def test_the_only_circles_are_type_only_back_references_to_queue(
    graph: grimp.ImportGraph, runtime_graph: grimp.ImportGraph
) -> None:
    # Queue hands itself to Job (as Bull's Job holds its Queue) and to the helpers it delegates
    # to (metrics, repeats, job preparation); they name its type under TYPE_CHECKING only, so
    # these circles vanish at runtime (the test above).
    for circle in _circles(graph):
        type_only = {
            (importer, imported)
            for importer in circle
            for imported in graph.find_modules_directly_imported_by(importer) & circle
            if imported not in runtime_graph.find_modules_directly_imported_by(importer)
        }
        assert {imported for _, imported in type_only} == {"pipeline.queue"}, type_only


def test_only_the_composition_root_imports_the_middleware(graph: grimp.ImportGraph) -> None:
    importers = {
        importer
        for module in _ours(graph)
        if module.startswith("middleware.")
        for importer in graph.find_modules_that_directly_import(module)
        if importer.startswith("pipeline.")
    }
    assert importers == {"pipeline.composition"}


def test_middleware_and_the_consumer_never_import_the_broker(graph: grimp.ImportGraph) -> None:
    dependants = {m for m in _ours(graph) if m.startswith("middleware.")} | {
        "pipeline.consumer",
        "pipeline.job_message",
    }
    for module in sorted(dependants):
        assert not graph.chain_exists(importer=module, imported="pipeline.broker"), module


#: Imports each middleware module first, as a fresh process would (the project's modules are
#: forgotten between two), and prints those that fail.
_IMPORT_EACH_FIRST = """
import importlib, pkgutil, sys
import middleware
names = [m.name for m in pkgutil.iter_modules(middleware.__path__, "middleware.")]
for name in names:
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("pipeline", "middleware", "actors")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        print(name, exc)
"""


def test_a_middleware_module_can_be_imported_first() -> None:
    # Python initialises a package before its modules: a middleware module imported first sets
    # off pipeline's initialisation, whose actor() reaches the composition root, which imports
    # the middleware (a circle through a package's __init__, which grimp does not draw).
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH_FIRST], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def _function_level_imports() -> Iterator[tuple[Path, int]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for function in ast.walk(tree):
                if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    for node in ast.walk(function):
                        if isinstance(node, ast.Import | ast.ImportFrom):
                            yield path, node.lineno


#: Lines that may sit between a function-level import and the comment explaining it.
_BLOCK = ("import ", "from ", "#", ")")


def test_every_function_level_import_says_why_it_is_deferred() -> None:
    # An import inside a function is allowed only to defer loading (startup cost, or an import
    # that declares actors), never to dodge an import circle; the comment above or beside it,
    # within its block of imports, says so.
    unexplained = []
    for path, line in _function_level_imports():
        lines = path.read_text().splitlines()
        top = line - 1
        while top > 0 and (not lines[top - 1].strip() or lines[top - 1].lstrip().startswith(_BLOCK)):
            top -= 1
        comments = [text for text in lines[top:line] if "#" in text]
        if not any("deferred" in text.lower() for text in comments):
            unexplained.append(f"{path.relative_to(ROOT)}:{line}")
    assert unexplained == []
