"""Run the real flake8 (a subprocess, as users do) and read back its findings."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FORMAT = "%(row)d:%(col)d:%(code)s"


def flake8(
    *args: str, cwd: Path | None = None, stdin: str | None = None, isolated: bool = True
) -> subprocess.CompletedProcess:
    """`isolated` ignores config files, so a test sees only the options it passes."""
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
