"""The house's layering rule as a test: page → api → planning/jobs → engine → techniques → quantization, bench,
runtimes → store; core never imports streamlit; pages never touch torch, SQL, the engine or the worker; and no
import circle anywhere in core, not even through an import inside a function. Read from the source, not by
importing."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# module prefix -> modules it must never import (directly, anywhere in the file)
ABOVE_TECHNIQUES = ("core.recipe", "core.engine", "core.planning", "core.api", "core.jobs", "core.cli", "core.explore",
                    "core.lifecycle", "core.views", "core.diagnose")
FORBIDDEN = {
    "core": ("streamlit",),
    "core.store": ("core.engine", "core.jobs", "core.api", "core.planning", "core.cli", "core.explore",
                   "core.techniques", "core.runtimes", "core.bench", "core.views", "core.comparable"),
    "core.techniques": (*ABOVE_TECHNIQUES, "core.store"),
    "core.quantization": (*ABOVE_TECHNIQUES, "core.techniques", "core.store"),
    "core.bench": (*ABOVE_TECHNIQUES, "core.techniques", "core.quantization", "core.store"),
    "core.runtimes": (*ABOVE_TECHNIQUES, "core.techniques", "core.quantization", "core.bench", "core.store"),
    "core.comparable": ("core.views", "core.engine", "core.planning", "core.api", "core.jobs", "core.cli"),
    "core.metrics": ("core.",),
    "core.tasks": ("core.models", "core.datasets", "core.text", "core.techniques", "core.runtimes", "core.store",
                   *ABOVE_TECHNIQUES),
    "core.text": (*ABOVE_TECHNIQUES, "core.techniques", "core.runtimes", "core.store", "core.models", "core.datasets"),
    # text generation's models, decoders, quality and timing: below the engine, beside the techniques
    "core.generation": (*ABOVE_TECHNIQUES, "core.techniques", "core.store"),
    "core.datasets": (*ABOVE_TECHNIQUES, "core.techniques", "core.runtimes", "core.store", "core.models"),
    "core.pareto": ("core.store", "core.engine", "core.api"),
    "core.engine": ("core.jobs", "core.api", "core.planning", "core.cli"),
    "core.planning": ("core.jobs", "core.api", "core.engine", "core.cli"),
    "core.jobs": ("core.api", "core.cli"),
    "core.diagnose": ("core.jobs", "core.api", "core.planning", "core.cli", "core.explore", "core.views"),
    "core.api": ("core.cli",),
    "core.targets": ("core.store", "core.engine", "core.jobs", "core.api", "core.planning"),
    "core.model_files": ("core.engine", "core.jobs", "core.api", "core.planning"),
    # streamlit.runtime and friends are Streamlit's private modules: pages use its public API only
    "pages": ("torch", "sqlalchemy", "onnxruntime", "streamlit.runtime", "streamlit.web", "core.engine", "core.jobs",
              "core.store.repository", "core.store.schema", "core.bench", "core.runtimes", "core.techniques"),
    "app": ("torch", "sqlalchemy", "core.engine", "core.jobs", "core.store"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def violations(module: str, path: Path) -> list[str]:
    """The imports of `path` (module `module`) that its layer forbids."""
    found = imports(path)
    broken = set()
    for prefix, forbidden in FORBIDDEN.items():
        if module != prefix and not module.startswith(prefix + "."):
            continue
        for bad in forbidden:
            stem = bad.rstrip(".")
            broken |= {name for name in found if (name == stem or name.startswith(stem + ".")) and
                       not (name == module or name.startswith(module + "."))}
    return sorted(broken)


SOURCES = sorted([*ROOT.glob("core/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_imports_across_its_layer(path):
    module = module_name(path)
    assert not violations(module, path), f"{module} imports {violations(module, path)}"


def test_the_rule_catches_a_violation(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import streamlit as st\nfrom core.engine import execute\nfrom core.store import RunStore\n")
    assert violations("core.store.probe", probe) == ["core.engine", "core.engine.execute", "streamlit"]
    assert violations("core.engine.probe", probe) == ["streamlit"]


CORE = {module_name(path): path for path in ROOT.glob("core/**/*.py")}


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Each module -> the modules of `modules` it imports, anywhere in the file (a function's import included:
    it is a dependency all the same, only later). `from package import name` counts as the submodule when there
    is one, else as the package."""
    graph = {}
    for module, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges |= {alias.name for alias in node.names if alias.name in modules}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    edges |= {sub} if sub in modules else {node.module} & modules.keys()
        graph[module] = edges - {module}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circle_in_core():
    assert circles(import_graph(CORE)) == []


def test_the_circle_finder_finds_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]] and circles({"a": {"b"}, "b": set()}) == []
