"""A checked file's project, and the project file an import names. Paths only: nothing is imported or run.

The root is the nearest folder, from the file's folder upwards, holding `pyproject.toml`, `setup.cfg`,
`setup.py` or `.git`; without one, the folder that holds the file's topmost package (the last folder of
its chain of `__init__.py` folders), or the file's own folder. Absolute imports are looked up in the import
roots, in order: the root, `root/src`, and the importing file's own folder when it is not in a package (a
script run as `python scripts/train.py` imports its neighbours). Relative imports are looked up from the
importing file's package. A module is a `name.py` file or a `name/` folder (a package with its
`__init__.py`, or a namespace package without one); only files inside the root count: an import that
leads elsewhere, or nowhere, is unknown.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")
INIT = "__init__.py"


@dataclass(frozen=True)
class Project:
    root: Path
    roots: tuple[Path, ...]  # where absolute imports are looked up

    def shown(self, path: Path) -> str:
        """`mypkg/model/wrappers.py`: the path from the root, as messages show it."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def locate(self, importer: Path, level: int, parts: Sequence[str]) -> Optional[Path]:
        """The module `parts` names from `importer` (`level` dots before it): a `.py` file, a package's
        `__init__.py`, or a namespace package's folder; None outside the project or when there is none."""
        return _locate(self, importer.parent, level, tuple(parts))


@functools.lru_cache(maxsize=65536)
def _locate(project: Project, folder: Path, level: int, parts: tuple[str, ...]) -> Optional[Path]:
    """Cached for the run, as `_module_in`."""
    if level:
        base = folder
        for _ in range(level - 1):
            base = base.parent
        bases: tuple[Path, ...] = (base,)
    else:
        bases = (*project.roots, *_script_folder(folder))
    for base in bases:
        found = _module_in(base, parts)
        if found is not None and found.is_relative_to(project.root):
            return found
    return None


@functools.lru_cache(maxsize=4096)
def _script_folder(folder: Path) -> tuple[Path, ...]:
    """The folder of a script not in a package, where its absolute imports are looked up too."""
    return () if (folder / INIT).is_file() else (folder,)


@functools.lru_cache(maxsize=4096)
def _module_in(base: Path, parts: tuple[str, ...]) -> Optional[Path]:
    """Cached for the run: a run may change what files say (`--fix`), never which files there are."""
    if any(not part.isidentifier() for part in parts):
        return None
    folder = base.joinpath(*parts)
    if parts and folder.with_suffix(".py").is_file():
        return folder.with_suffix(".py")
    if (folder / INIT).is_file():
        return folder / INIT
    return folder if folder.is_dir() else None


def find_project(path: str) -> Project:
    """The project of the file at `path` (which need not exist)."""
    return _project_of(Path(path).resolve().parent)


@functools.lru_cache(maxsize=256)
def _project_of(folder: Path) -> Project:
    root = _marked_root(folder)
    if root is None:
        root = folder
        while (root / INIT).is_file() and root.parent != root:
            root = root.parent
    src = root / "src"
    return Project(root, (root, src) if src.is_dir() else (root,))


def _marked_root(folder: Path) -> Optional[Path]:
    for candidate in (folder, *folder.parents):
        try:
            if any((candidate / marker).exists() for marker in ROOT_MARKERS):
                return candidate
        except OSError:  # a folder we may not read: no marker we can use there
            continue
    return None
