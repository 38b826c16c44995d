"""What `check FOLDER` walks into: not what users never mean to lint, nor what git ignores.

Skipped in every folder walked (never a path given explicitly): virtual environments (any folder with a
`pyvenv.cfg`, whatever its name), `site-packages`, `node_modules`, build output (`build`, `dist`,
`*.egg-info`, `.eggs`), tool caches (`.tox`, `.nox`, `__pycache__`, `.ipynb_checkpoints`) and VCS folders
(`.git`, `.hg`, `.svn`). A `--fix` that walked into `.venv` would edit installed packages.

`.gitignore` is respected as git itself reads it: `git ls-files --others --ignored --exclude-standard
--directory` once per folder given, which also honours nested .gitignore files, `.git/info/exclude` and
the user's global excludes, and keeps tracked files (git ignores only untracked ones). Asking git rather
than re-implementing its rules adds no dependency and cannot disagree with `git status`; outside a git
work tree (or without git) nothing is ignored beyond the list above. `--no-respect-gitignore`, or
`respect-gitignore = false` in the config, turns it off.
"""
from __future__ import annotations

import fnmatch
import os
import subprocess

SKIPPED_DIRS = (
    ".git", ".hg", ".svn", "__pycache__", ".tox", ".nox", ".eggs", "*.egg-info", "build", "dist",
    "site-packages", "node_modules", ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache", ".ruff_cache",
)


def skipped_dir(folder: str, name: str) -> bool:
    """Whether the walk skips the subfolder `name` of `folder`: by name, or as a virtual environment."""
    if any(fnmatch.fnmatch(name, pattern) for pattern in SKIPPED_DIRS):
        return True
    return os.path.isfile(os.path.join(folder, name, "pyvenv.cfg"))


def git_ignored(root: str) -> frozenset[str]:
    """Absolute, normalised paths under `root` that git ignores (folders and files); empty outside a git
    work tree or when git is missing."""
    try:
        done = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    if done.returncode != 0:
        return frozenset()
    entries = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    return frozenset(os.path.normpath(os.path.abspath(os.path.join(root, e))) for e in entries if e)
