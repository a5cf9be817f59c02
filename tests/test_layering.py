"""The house's layering rule as a test: page → api → planning/jobs → engine → store; core never imports
streamlit; pages never touch torch, SQL, the engine or the worker. Read from the source, not by importing."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# module prefix -> modules it must never import (directly, anywhere in the file)
FORBIDDEN = {
    "core": ("streamlit",),
    "core.store": ("core.engine", "core.jobs", "core.api", "core.planning", "core.cli", "core.explore"),
    "core.metrics": ("core.",),
    "core.pareto": ("core.store", "core.engine", "core.api"),
    "core.engine": ("core.jobs", "core.api", "core.planning", "core.cli"),
    "core.planning": ("core.jobs", "core.api", "core.engine", "core.cli"),
    "core.jobs": ("core.api", "core.cli"),
    "core.diagnose": ("core.jobs", "core.api", "core.planning", "core.cli"),
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
