"""The command on a fixture project (tests/fixtures_projects/), run as users run it: given one file inside
the project from another folder, and given the whole project with one and with two worker processes, it
reports what the other modules tell (tests/test_project.py checks the same in process)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_peft_names.rule import example_expectations
from tests.test_cli import cli, positions

pytestmark = pytest.mark.prepush  # tier (tests/conftest.py)

PROJECT = Path(__file__).parent / "fixtures_projects" / "src_wrappers"


def _expected(root: Path) -> list[tuple[str, int, int, str]]:
    return sorted(
        (str(path), line, col, code)
        for path in sorted(root.rglob("*.py"))
        for line, col, code in example_expectations(path.read_text(encoding="utf-8"))
    )


def test_one_file_inside_a_project_given_from_elsewhere(tmp_path: Path) -> None:
    script = PROJECT / "scripts" / "train.py"
    result = cli("check", "--isolated", "--project-wide", "--no-progress", str(script), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert positions(result.stdout) == [(str(script), *e) for e in sorted(example_expectations(script.read_text()))]
    assert "passed to add_adapter_to_model() (src/mypkg/model/wrappers.py), which forwards it" in result.stdout


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("name", ["src_wrappers", "zero3_utils", "adapter_export"])
def test_the_whole_project_with_workers(jobs: str, name: str) -> None:
    project = PROJECT.parent / name
    result = cli("check", "--isolated", "--project-wide", "--no-progress", "-j", jobs, str(project), cwd=project)
    assert positions(result.stdout) == _expected(project), result.stderr


def test_a_helper_module_given_alone_names_its_callers(tmp_path: Path) -> None:
    """The state-dict half: vlm/utils.py's helpers are judged by the calls of them in vlm/train.py."""
    utils = PROJECT.parent / "zero3_utils" / "vlm" / "utils.py"
    result = cli("check", "--isolated", "--project-wide", "--no-progress", str(utils), cwd=tmp_path)
    assert positions(result.stdout) == [(str(utils), *e) for e in sorted(example_expectations(utils.read_text()))]
    assert "is passed to model.save_pretrained(state_dict=...) in vlm/train.py:22" in result.stdout


def _flake8(*args: str, cwd: Path, stdin: str = "") -> list[tuple[str, int, int, str]]:
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=PFT", "--format=%(path)s:%(row)d:%(col)d: %(code)s", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode in (0, 1) and not result.stderr, result
    rows = (line.split(":") for line in result.stdout.splitlines())
    return sorted((path, int(row), int(col), code.strip()) for path, row, col, code in rows)


def test_flake8_with_project_wide_reports_what_the_command_reports(tmp_path: Path) -> None:
    """The real flake8, two worker processes: with `--project-wide` or `project-wide = true` in its config it
    reports what the command reports; an editor's unsaved buffer (stdin, with the file's name) too."""
    project = tmp_path / "p"
    shutil.copytree(PROJECT, project)
    expected = [(str(Path(p).relative_to(project)), *rest) for p, *rest in _expected(project)]
    assert _flake8("-j2", "--isolated", ".", cwd=project) == []
    assert _flake8("-j2", "--isolated", "--project-wide", ".", cwd=project) == [
        ("./" + p, *rest) for p, *rest in expected
    ]
    (project / "setup.cfg").write_text("[flake8]\nproject-wide = true\n")
    assert _flake8("-j2", ".", cwd=project) == [("./" + p, *rest) for p, *rest in expected]
    (project / "setup.cfg").write_text("[flake8]\nproject-wide = maybe\n")
    bad = subprocess.run([sys.executable, "-m", "flake8", "."], cwd=project, capture_output=True, text=True)
    assert (bad.returncode, bad.stderr) == (2, "flake8-peft-names: project-wide: 'maybe' is not true or false\n")
    (project / "setup.cfg").write_text("[flake8]\nproject-wide = true\n")
    script = "scripts/train.py"
    buffer = (project / script).read_text()
    shown = _flake8("--stdin-display-name", script, "-", cwd=project, stdin=buffer)
    assert shown == [e for e in expected if e[0] == script] != []


def test_the_plugin_loads_the_project_pass_only_when_asked() -> None:
    """Every flake8 run imports the plugin: the project pass (about 20 ms of imports) only with --project-wide."""
    code = (
        "import sys\nfrom argparse import Namespace\nfrom flake8_peft_names.plugin import Plugin\n"
        "options = Namespace(peft_version=None, peft_methods=None, select=None, ignore=None, extend_select=None,"
        " extend_ignore=None, project_wide=sys.argv[1] or None)\n"
        "Plugin.parse_options(options)\nprint('flake8_peft_names.project_index' in sys.modules)\n"
    )
    for wide, loaded in (("", "False"), ("true", "True")):
        done = subprocess.run([sys.executable, "-c", code, wide], capture_output=True, text=True, check=True)
        assert done.stdout.strip() == loaded, done.stderr
