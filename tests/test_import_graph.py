"""The package's modules import each other without a cycle, function-level imports included, and none
grows past MAX_LINES."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

PACKAGE = "flake8_peft_names"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _imported(name: str, path: Path) -> set[str]:
    """The package's modules that `name` imports anywhere in its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from . import module`
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: _imported(name, path) for name, path in MODULES.items()}


def _cycle() -> Optional[list[str]]:
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> Optional[list[str]]:
        if module in trail:
            return trail[trail.index(module):] + [module]
        if module in done:
            return None
        for imported in sorted(GRAPH[module]):
            cycle = visit(imported, [*trail, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in sorted(GRAPH):
        cycle = visit(module, [])
        if cycle:
            return cycle
    return None


def test_the_graph_sees_relative_and_function_level_imports() -> None:
    assert f"{PACKAGE}.engine" in GRAPH[f"{PACKAGE}.plugin"]  # from .engine import ...
    assert f"{PACKAGE}.fixer" in GRAPH[f"{PACKAGE}.file_job"]  # imported inside FileJob._fix
    assert f"{PACKAGE}.rule" in GRAPH[f"{PACKAGE}.rules.state_dicts"]  # from ..rule import ...


def test_no_import_cycle() -> None:
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_module_is_too_long() -> None:
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()}
    too_long = {name: length for name, length in lengths.items() if length > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"
