"""Run the real flake8 (a subprocess, as users do) and read back its findings."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FORMAT = "%(row)d:%(col)d:%(code)s"
PATH_FORMAT = "%(path)s:%(row)d:%(col)d:%(code)s"


def flake8(
    *args: str, cwd: Path | None = None, stdin: str | None = None, isolated: bool = True
) -> subprocess.CompletedProcess:
    """`isolated` ignores config files, so a test sees only the options it passes. A `--format` in `args`
    wins over FORMAT (flake8 takes the last one)."""
    command = [sys.executable, "-m", "flake8", f"--format={FORMAT}", *(["--isolated"] if isolated else []), *args]
    return subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300)


def findings(result: subprocess.CompletedProcess) -> list[tuple[int, int, str]]:
    """`(line, 1-based col, code)` of every PFT finding flake8 printed (other plugins' are dropped)."""
    assert result.returncode in (0, 1), result.stderr
    found = []
    for line in result.stdout.splitlines():
        row, col, code = line.rsplit(":", 3)[-3:]
        if code.startswith("PFT"):
            found.append((int(row), int(col), code))
    return sorted(found)


def flake8_by_file(root: Path, *args: str) -> dict[str, list[tuple[int, int, str]]]:
    """One flake8 run over the paths in `args` (under `root`): the findings of every code flake8 printed,
    by file path relative to `root`, each list sorted. A file with nothing to report is absent."""
    result = flake8(*args, f"--format={PATH_FORMAT}")
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    grouped: dict[str, list[tuple[int, int, str]]] = {}
    for line in result.stdout.splitlines():
        path, row, col, code = line.rsplit(":", 3)
        name = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
        grouped.setdefault(name, []).append((int(row), int(col), code))
    return {name: sorted(found) for name, found in grouped.items()}


# flake8 with only some of its plugins: the others are left out where flake8 finds them (its plugin finder),
# so they are never loaded, in the main process or in its -j workers (forked from it). flake8's own
# reporters and its E902/E999 for files it cannot read stay.
ONLY_PLUGINS = """
import sys
from flake8.main.cli import main
from flake8.plugins import finder
from flake8.utils import normalize_pypi_name
kept = {normalize_pypi_name(name) for name in sys.argv[1].split(",")} | {"flake8"}
find = finder._find_importlib_plugins
finder._find_importlib_plugins = lambda: (p for p in find() if normalize_pypi_name(p.package) in kept)
raise SystemExit(main(sys.argv[2:]))
"""
THIS_PLUGIN = "flake8-peft-names"


def flake8_only_command(*args: str, packages: str = THIS_PLUGIN) -> list[str]:
    """The command line of flake8 with the plugins of `packages` alone (comma-separated distribution names):
    by default this plugin without pyflakes, pycodestyle and mccabe."""
    return [sys.executable, "-c", ONLY_PLUGINS, packages, *args]
