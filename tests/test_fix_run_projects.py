"""The project-wide fixes proven by running them: every project under tests/fix_projects (a `pyproject.toml`,
a package of wrappers or constants, and `run.py` at the root that imports it) runs on a tiny local model
with real peft before and after `flake8-peft-names check --fix --unsafe-fixes --project-wide run.py`. The
command is given the script alone: it reads the package's modules itself, and only the script may change.

`run.py`'s first line says what the fix must do, as the scripts of tests/test_fix_run.py say it; the
markers, tiers, `PFT_FIXRUN_PYTHONS` and `PFT_REQUIRE_RUNTIME` are those of tests/test_fix_run.py. The static
checks (tier 0) fix a copy in process, as the command and the LibCST codemod do; the runs are `fixrun`.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext

from flake8_peft_names.codemod import FixPeftNames
from flake8_peft_names.config import load_config
from flake8_peft_names.file_job import FileJob
from flake8_peft_names.results import FileResult
from flake8_peft_names.rule import Applicability
from tests.test_fix_run import (
    HARNESS, PYTHONS, TINY_MODEL, UNSAFE, assert_keeps_or_gains, expectation, fix_with_cli, require_runtime,
)

PROJECTS_DIR = Path(__file__).parent / "fix_projects"
PROJECTS = sorted(p for p in PROJECTS_DIR.iterdir() if (p / "pyproject.toml").is_file())
SCRIPT = "run.py"


def copy_project(project: Path, directory: Path) -> Path:
    """The project copied to `directory` with harness.py and tiny_model.py beside its script; the script."""
    shutil.copytree(project, directory)
    shutil.copy(HARNESS, directory / HARNESS.name)
    shutil.copy(TINY_MODEL, directory / TINY_MODEL.name)
    return directory / SCRIPT


def other_files(directory: Path) -> dict[str, bytes]:
    """Every file of the project but its script, by relative path."""
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file() and p.name != SCRIPT
    }


def fix_in_process(script: Path) -> FileResult:
    """`check --fix --unsafe-fixes --project-wide SCRIPT`, in this process."""
    return FileJob(load_config({"project-wide": "true"}), "fix", UNSAFE, None)(str(script))


def fix_with_codemod(script: Path) -> bytes:
    command = FixPeftNames(CodemodContext(filename=str(script)), unsafe_fixes=True, project_wide=True)
    return command.transform_module(cst.parse_module(script.read_bytes())).bytes


# ---------------------------------------------------------------------------------------------------
# Static: what each fix claims, without running anything


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_project_fix_does_what_the_script_says(project: Path, tmp_path: Path) -> None:
    script = copy_project(project, tmp_path / "p")
    expected = expectation(script)
    source, others = script.read_bytes(), other_files(script.parent)
    by_codemod = fix_with_codemod(script)  # first: the codemod fixes only a file as it is on disk
    result = fix_in_process(script)
    fixed = script.read_bytes()
    assert result.error is None, result.error
    assert other_files(script.parent) == others, "a module other than the script was changed"
    assert by_codemod == fixed, "the codemod and the command fix the script differently"
    if expected.fixed:
        assert fixed != source, "the script says the fix changes it, and it does not"
        again = fix_in_process(script)
        assert again.fixed == 0 and script.read_bytes() == fixed, "a second --fix run changes the script again"
    elif not expected.reported:
        assert result.findings == [], "the script says it is not reported"
    else:
        assert fixed == source, "a display-only script was changed by --fix --unsafe-fixes"
        descriptions = [f.fix.description for f in result.findings if f.fix is not None]
        reason = expected.reason or ""
        assert reason and any(reason in d for d in descriptions), descriptions
        assert all(f.fix.applicability is not Applicability.UNSAFE for f in result.findings if f.fix is not None)


# ---------------------------------------------------------------------------------------------------
# The runs


@pytest.mark.fixrun
@pytest.mark.full
@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_fixed_project_keeps_or_gains_its_round_trip(project: Path, python: str, tmp_path: Path) -> None:
    expected = expectation(project / SCRIPT)
    require_runtime(python, expected)
    before_file = copy_project(project, tmp_path / "before")
    after_file = copy_project(project, tmp_path / "after")
    fix_with_cli(after_file, "--project-wide")
    assert other_files(after_file.parent) == other_files(before_file.parent), "only the script may change"
    changed = after_file.read_bytes() != before_file.read_bytes()
    assert changed == expected.fixed
    assert_keeps_or_gains(expected, python, before_file, after_file if changed else None, project.name)
