"""Fixes proven by running them: every script under tests/fix_scripts runs on a tiny local model with real
peft before and after `flake8-peft-names check --fix --unsafe-fixes`.

Each script's first line says what the fix must do:
  `# fixrun: fixed`                   an unsafe fix changes the script; after it every adapter tensor
                                      round-trips (and where the original round-tripped, so does the fix);
  `# fixrun: display-only "REASON"`   no fix is applied (the file stays byte for byte), and a finding's
                                      fix description gives REASON;
  `# fixrun: not-reported "WHY"`      no finding at all, so nothing changes (code that does not use peft).
`# fixrun: needs MODULE` skips the run (not the static checks) where MODULE cannot be imported.

The static checks run everywhere. The runs (marker `fixrun`, tier `full`) need torch and peft: opt in with
`--fixrun`, `PFT_FIXRUN=1` or `-m fixrun`/`-m full`; `PFT_FIXRUN_PYTHONS` lists the interpreters to run the
scripts with (os.pathsep-separated; CI: the oldest and newest supported peft), else this one.
`PFT_REQUIRE_RUNTIME=1` turns a missing torch/peft into a failure instead of a skip.
The project-wide fixes are run the same way on the projects of tests/fix_projects: tests/test_fix_run_projects.py.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

from flake8_peft_names.engine import check_tree
from flake8_peft_names.fixer import fix_source
from flake8_peft_names.rule import Applicability, Finding
from flake8_peft_names.settings import build_settings

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS_DIR = Path(__file__).parent / "fix_scripts"
HARNESS = SCRIPTS_DIR / "harness.py"
TINY_MODEL = SCRIPTS_DIR.parent / "tiny_model.py"
SCRIPTS = sorted(p for p in SCRIPTS_DIR.glob("*.py") if p != HARNESS)
UNSAFE = frozenset({Applicability.SAFE, Applicability.UNSAFE})
HEADER = re.compile(r'# fixrun: (fixed|display-only "(.*)"|not-reported "(.*)")$')
NEEDS = re.compile(r"^# fixrun: needs (\w+)$", re.M)
RESULT = "PFT_RESULT "


@dataclass(frozen=True)
class Expectation:
    fixed: bool
    reason: Optional[str]  # display-only: why, as a finding's fix description says it
    needs: tuple[str, ...]
    reported: bool = True  # not-reported: no finding at all (the module does not use peft)


def expectation(path: Path) -> Expectation:
    text = path.read_text(encoding="utf-8")
    match = HEADER.match(text.splitlines()[0])
    assert match, f"{path.name}: the first line must be `# fixrun: fixed`, `display-only ...` or `not-reported ...`"
    needs = tuple(NEEDS.findall(text))
    return Expectation(match.group(1) == "fixed", match.group(2), needs, reported=match.group(3) is None)


def findings(source: bytes) -> list[Finding]:
    return check_tree(ast.parse(source), importlib.util.decode_source(source).splitlines(True), build_settings())


def ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


# ---------------------------------------------------------------------------------------------------
# Static: what each fix claims, without running anything


@pytest.mark.parametrize("path", SCRIPTS, ids=ids(SCRIPTS))
def test_fix_does_what_the_script_says(path: Path) -> None:
    expected = expectation(path)
    source = path.read_bytes()
    found = findings(source)
    fixed = fix_source(source, found, UNSAFE)
    if expected.fixed:
        assert fixed != source, "the script says the fix changes it, and it does not"
        assert fix_source(fixed, findings(fixed), UNSAFE) == fixed, "a second --fix run changes the script again"
    elif not expected.reported:
        assert found == [], "the script says it is not reported"
    else:
        assert fixed == source, "a display-only script was changed by --fix --unsafe-fixes"
        descriptions = [f.fix.description for f in found if f.fix is not None]
        reason = expected.reason
        assert reason is not None and any(reason in d for d in descriptions), descriptions
        assert all(f.fix.applicability is not Applicability.UNSAFE for f in found if f.fix is not None)


# ---------------------------------------------------------------------------------------------------
# The runs


def _pythons() -> list[str]:
    listed = os.environ.get("PFT_FIXRUN_PYTHONS", "")
    return [p for p in listed.split(os.pathsep) if p] or [sys.executable]


PYTHONS = _pythons()


def _missing(python: str, modules: tuple[str, ...]) -> Optional[str]:
    code = "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in sys.argv[1:]))"
    done = subprocess.run([python, "-c", code, *modules], capture_output=True)
    return None if done.returncode == 0 else f"{python} cannot import {', '.join(modules)}"


def require_runtime(python: str, expected: Expectation) -> None:
    """Skips the test where `python` lacks torch, peft or a module the script needs (fails instead with
    PFT_REQUIRE_RUNTIME=1, unless the script names that module)."""
    missing = _missing(python, ("torch", "peft")) or _missing(python, expected.needs)
    if missing:
        if os.environ.get("PFT_REQUIRE_RUNTIME") == "1" and not expected.needs:
            pytest.fail(missing)
        pytest.skip(missing)


@dataclass(frozen=True)
class Run:
    returncode: int
    adapters: dict[str, list[int]]
    output: str

    @property
    def round_trips(self) -> bool:
        return self.returncode == 0 and bool(self.adapters) and all(r == t for r, t in self.adapters.values())


def run_script(python: str, directory: Path, name: str) -> Run:
    done = subprocess.run(
        [python, name], cwd=directory, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PYTHONPATH=str(directory), PYTHONWARNINGS="ignore"),
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    adapters = json.loads(lines[-1][len(RESULT):])["adapters"] if lines else {}
    return Run(done.returncode, adapters, (done.stdout + done.stderr)[-3000:])


def fix_with_cli(path: Path, *options: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flake8_peft_names", "check", "--fix", "--unsafe-fixes", *options, str(path)],
        capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert done.returncode in (0, 1), done.stderr


def copy_to(directory: Path, path: Path) -> Path:
    directory.mkdir()
    shutil.copy(HARNESS, directory / HARNESS.name)
    shutil.copy(TINY_MODEL, directory / TINY_MODEL.name)
    return Path(shutil.copy(path, directory / path.name))


@pytest.mark.fixrun
@pytest.mark.full
@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("path", SCRIPTS, ids=ids(SCRIPTS))
def test_fixed_script_keeps_or_gains_its_round_trip(path: Path, python: str, tmp_path: Path) -> None:
    expected = expectation(path)
    require_runtime(python, expected)
    before_file = copy_to(tmp_path / "before", path)
    after_file = copy_to(tmp_path / "after", path)
    fix_with_cli(after_file)
    changed = after_file.read_bytes() != before_file.read_bytes()
    assert changed == expected.fixed
    assert_keeps_or_gains(expected, python, before_file, after_file if changed else None, path.stem)


def assert_keeps_or_gains(
    expected: Expectation, python: str, before_file: Path, after_file: Optional[Path], label: str
) -> None:
    """Runs the script before and, when the fix changed it (`after_file`), after the fix: a script that
    round-tripped still does, and one the fix claims to repair round-trips every tensor."""
    before = run_script(python, before_file.parent, before_file.name)
    after = run_script(python, after_file.parent, after_file.name) if after_file else before
    print(f"{label} [{python}]: before rc={before.returncode} {before.adapters}; "
          f"after rc={after.returncode} {after.adapters}")
    assert before.adapters or before.returncode != 0, before.output
    if before.round_trips:
        assert after.round_trips, f"the fix broke a working script:\n{after.output}"
    if expected.fixed:
        assert after.round_trips, f"the fixed script does not round-trip every tensor:\n{after.output}"
        assert len(after.adapters) == len(before.adapters)
