"""The project passes its own linters: flake8 (pyflakes, pycodestyle, mccabe) with setup.cfg's settings, and
the plugin itself. `examples/` is left out: its files exist to be reported."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.prepush  # tier (tests/conftest.py)

ROOT = Path(__file__).resolve().parent.parent


def test_the_package_tests_and_scripts_pass_flake8_and_the_plugin() -> None:
    command = [sys.executable, "-m", "flake8", "flake8_peft_names", "tests", "benchmarks", "scripts"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
