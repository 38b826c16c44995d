"""The peft versions a project declares, for when `peft-version` is not configured (as ruff takes its
target-version from `requires-python`).

From the checked file's folder upwards, the first folder with a project file (pyproject.toml, setup.cfg,
setup.py, requirements.txt, requirements/*.txt) is the project root. Its declared `peft` requirement is
the range: pyproject.toml ([project] dependencies and optional-dependencies, Poetry's dependencies),
setup.cfg (install_requires, extras_require), setup.py (the literal install_requires list, read with
`ast`, never run), then the requirements files. A project that declares no peft falls back to the
installed peft, then to DEFAULT_SUPPORTED. Every lookup is cached per folder: the flake8 plugin asks once
per file, and a project has few folders.
"""
from __future__ import annotations

import ast
import configparser
import functools
import importlib.metadata
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from packaging.requirements import InvalidRequirement, Requirement

from .versions import DEFAULT_SUPPORTED

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "requirements.txt")
REQUIREMENTS_FOLDER = "requirements"


@dataclass(frozen=True)
class AssumedRange:
    """A peft range nobody configured: the specifier and where it comes from (a file name, `installed
    peft` or `the default`)."""

    spec: str
    source: str

    @property
    def note(self) -> str:
        """The suffix every finding under this range carries."""
        return f" (assumed peft{self.spec} from {self.source})"


def assumed_range(path: str) -> AssumedRange:
    """The range for the file at `path` (a file or a folder; need not exist) when none is configured."""
    start = Path(path).resolve()
    try:
        folder = start if start.is_dir() else start.parent
    except OSError:
        folder = start.parent
    return _range_of_folder(folder)


@functools.lru_cache(maxsize=1024)
def _range_of_folder(folder: Path) -> AssumedRange:
    root = project_root(folder)
    declared = declared_peft(root) if root is not None else None
    return declared or _fallback()


@functools.lru_cache(maxsize=1024)
def project_root(folder: Path) -> Optional[Path]:
    """The nearest folder, from `folder` upwards, holding a project file; None when there is none."""
    try:
        if any((folder / name).is_file() for name in PROJECT_FILES) or _requirement_files(folder):
            return folder
    except OSError:  # a folder we may not read (EACCES): no project file we can use there
        pass
    return None if folder.parent == folder else project_root(folder.parent)


@functools.lru_cache(maxsize=1)
def _fallback() -> AssumedRange:
    try:
        return AssumedRange("==" + importlib.metadata.version("peft"), "installed peft")
    except importlib.metadata.PackageNotFoundError:
        return AssumedRange(DEFAULT_SUPPORTED, "the default")


def declared_peft(root: Path) -> Optional[AssumedRange]:
    """The first non-empty peft specifier the project's files declare, with the file's name."""
    readers = (
        ("pyproject.toml", _pyproject),
        ("setup.cfg", _setup_cfg),
        ("setup.py", _setup_py),
    )
    try:
        sources: list[tuple[str, Iterable[str]]] = [(name, read(root / name)) for name, read in readers]
        sources += [(str(p.relative_to(root)), _requirements_txt(p)) for p in _requirement_files(root)]
    except OSError:  # unreadable project files: as if they declared nothing
        return None
    for name, lines in sources:
        for spec in _peft_specs(lines):
            return AssumedRange(spec, name)
    return None


def _requirement_files(folder: Path) -> list[Path]:
    found = [folder / "requirements.txt"] if (folder / "requirements.txt").is_file() else []
    if (folder / REQUIREMENTS_FOLDER).is_dir():
        found += sorted((folder / REQUIREMENTS_FOLDER).glob("*.txt"))
    return found


def _peft_specs(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        try:
            requirement = Requirement(line.strip())
        except InvalidRequirement:
            continue
        if requirement.name.lower() == "peft" and str(requirement.specifier):
            yield str(requirement.specifier)


def _pyproject(path: Path) -> list[str]:
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    project = _table(data.get("project"))
    found = _strings(project.get("dependencies"))
    for extra in _table(project.get("optional-dependencies")).values():
        found += _strings(extra)
    poetry = _table(_table(data.get("tool")).get("poetry"))
    groups = [_table(poetry.get("dependencies"))]
    groups += [_table(_table(g).get("dependencies")) for g in _table(poetry.get("group")).values()]
    for group in groups:
        for name, value in group.items():
            if name.lower() == "peft":
                version = value.get("version") if isinstance(value, dict) else value
                if isinstance(version, str):
                    found.append("peft" + _poetry_spec(version))
    return found


def _poetry_spec(version: str) -> str:
    """Poetry's `^0.18` / `~0.18.1` / `0.18` as PEP 440 (the common forms; others read as written)."""
    text = version.strip()
    if text in ("*", ""):
        return ""
    if text[0] == "^" or text[0].isdigit():
        parts = text.lstrip("^").split(".")
        # ^0.18 allows >=0.18,<0.19 (the first non-zero part stays); ^1.2 allows <2
        bump = next((i for i, p in enumerate(parts) if p.isdigit() and int(p) != 0), len(parts) - 1)
        upper = [*parts[:bump], str(int(parts[bump]) + 1 if parts[bump].isdigit() else 0)]
        return f">={'.'.join(parts)},<{'.'.join(upper)}"
    if text.startswith("~") and not text.startswith("~="):
        parts = text.lstrip("~").split(".")
        keep = parts[:2] if len(parts) > 1 else parts
        upper = [*keep[:-1], str(int(keep[-1]) + 1)] if keep[-1].isdigit() else keep
        return f">={'.'.join(parts)},<{'.'.join(upper)}"
    return text


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _setup_cfg(path: Path) -> list[str]:
    if not path.is_file():
        return []
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (UnicodeDecodeError, configparser.Error):
        return []
    found = parser.get("options", "install_requires", fallback="").splitlines()
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            found += value.splitlines()
    return found


def _setup_py(path: Path) -> list[str]:
    """The string items of literal `install_requires=[...]` lists (or a name assigned one), never run."""
    if not path.is_file():
        return []
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return []
    assigned = {
        t.id: node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in ("install_requires", "extras_require"):
            value = assigned.get(node.value.id, node.value) if isinstance(node.value, ast.Name) else node.value
            items = value.values if isinstance(value, ast.Dict) else [value]
            for item in items:
                if isinstance(item, (ast.List, ast.Tuple)):
                    found += [e.value for e in item.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return found


def _requirements_txt(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return [line.split(" #", 1)[0] for line in text.splitlines() if not line.lstrip().startswith(("#", "-"))]
