"""The `flake8-peft-names` command, run as users run it (a subprocess)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_peft_names.rules import RULES
from tests.flake8_run import findings, flake8

pytestmark = pytest.mark.prepush  # tier (tests/conftest.py)

BAD = 'from peft import get_peft_model\n\nmodel = get_peft_model(base, config, adapter_name="lora")\n'
CLEAN = 'from peft import get_peft_model\n\nmodel = get_peft_model(base, config, adapter_name="sft")\n'


def cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flake8_peft_names", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300,
    )


def positions(stdout: str) -> list[tuple[str, int, int, str]]:
    found = []
    for line in stdout.splitlines():
        location, _, text = line.partition(": ")
        path, row, col = location.rsplit(":", 2)
        found.append((path, int(row), int(col), text.split()[0]))
    return sorted(found)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "clean.py").write_text(CLEAN)
    return tmp_path


def test_exit_codes(project: Path) -> None:
    assert cli("check", "clean.py", cwd=project).returncode == 0
    bad = cli("check", "bad.py", cwd=project)
    assert bad.returncode == 1
    assert bad.stdout.startswith("bad.py:3:51: PFT102 adapter name 'lora'") and "[fix: unsafe]" in bad.stdout
    assert cli("check", "--select=PFT999", "bad.py", cwd=project).returncode == 2
    assert cli("check", "--no-such-flag", cwd=project).returncode == 2


def test_stdin_with_display_name(project: Path) -> None:
    result = cli("check", "--stdin-display-name=train.py", "-", cwd=project, stdin=BAD)
    assert result.returncode == 1 and result.stdout.startswith("train.py:3:51: PFT102")


def test_directories_are_walked_with_excludes(project: Path) -> None:
    nested = project / "pkg" / "sub"
    nested.mkdir(parents=True)
    (nested / "deep.py").write_text(BAD)
    (project / ".tox").mkdir()
    (project / ".tox" / "vendored.py").write_text(BAD)
    (project / "notes.txt").write_text(BAD)
    result = cli("check", ".", cwd=project)
    assert [p for p, *_ in positions(result.stdout)] == ["./bad.py", "./pkg/sub/deep.py"]
    result = cli("check", "--extend-exclude=pkg", ".", cwd=project)
    assert [p for p, *_ in positions(result.stdout)] == ["./bad.py"]


def test_unreadable_and_unparsable_files_are_reported_once_and_the_run_goes_on(project: Path) -> None:
    (project / "broken.py").write_text('from peft import get_peft_model\nget_peft_model(adapter_name="lora"\n')
    (project / "latin.py").write_bytes(b"# peft adapter\nname = '\xe9'\n")
    result = cli("check", "broken.py", "latin.py", "missing.py", "bad.py", cwd=project)
    assert result.returncode == 1
    assert [p for p, *_ in positions(result.stdout)] == ["bad.py"]
    errors = sorted(line for line in result.stderr.splitlines() if ": error: " in line)
    assert len(errors) == 3
    assert errors[0].startswith("broken.py: error: syntax error at line 2")
    assert errors[1].startswith("latin.py: error: cannot decode")
    assert errors[2].startswith("missing.py: error: cannot read")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "config",
    [
        "[flake8]\nextend-ignore = PFT102\n",
        "[flake8]\nper-file-ignores = bad.py:PFT1\n",
        "[flake8]\npeft-version = >=0.18\n",
        "[flake8]\nselect = E,W\n",
        "[flake8]\npeft-methods = ia3\n",
    ],
)
def test_cli_and_flake8_plugin_agree_on_config(project: Path, config: str) -> None:
    (project / "setup.cfg").write_text(config)
    ours = [(row, col, code) for _, row, col, code in positions(cli("check", "bad.py", cwd=project).stdout)]
    theirs = findings(flake8("bad.py", cwd=project, isolated=False))
    assert ours == theirs


def test_noqa_agrees_with_flake8_including_multiline_statements(project: Path) -> None:
    source = (
        "from peft import get_peft_model\n"
        'a = get_peft_model(base, config, adapter_name="lora")  # noqa: PFT102\n'
        'b = get_peft_model(base, config, adapter_name="lora")  # noqa: PFT1\n'
        'c = get_peft_model(base, config, adapter_name="lora")  # noqa\n'
        'd = get_peft_model(base, config, adapter_name="lora")  # noqa: E501\n'
        "e = get_peft_model(\n"
        '    base, config, adapter_name="lora",\n'
        ")  # noqa: PFT102\n"
    )
    (project / "noqa.py").write_text(source)
    ours = [(row, col, code) for _, row, col, code in positions(cli("check", "noqa.py", cwd=project).stdout)]
    assert ours == findings(flake8("--select=PFT", "noqa.py", cwd=project)) == [(5, 47, "PFT102"), (7, 32, "PFT102")]
    (project / "skip.py").write_text("# flake8: noqa\n" + source)
    assert cli("check", "skip.py", cwd=project).stdout == ""


def test_parallel_run_equals_serial_run(project: Path) -> None:
    for n in range(40):
        (project / f"copy{n}.py").write_text(BAD if n % 3 else CLEAN)
    serial = cli("check", "-j", "1", ".", cwd=project)
    parallel = cli("check", "-j", "2", ".", cwd=project)
    assert serial.stdout == parallel.stdout and serial.stdout.count("PFT102") == 27


def test_json_output(project: Path) -> None:
    records = json.loads(cli("check", "--output-format=json", "bad.py", cwd=project).stdout)
    assert records == [
        {
            "path": "bad.py", "line": 3, "column": 51, "end_line": 3, "end_column": 57,
            "code": "PFT102", "name": "adapter-name-inside-prefix", "message": records[0]["message"],
            "fix": {
                "applicability": "unsafe", "description": "rename 'lora' to 'adapter_lora' at 1 place: line 3",
                "edits": [{"line": 3, "column": 51, "end_line": 3, "end_column": 57, "content": '"adapter_lora"'}],
                "imports": [],
            },
        }
    ]


def test_rule_command_prints_the_rule_docs(project: Path) -> None:
    result = cli("rule", "PFT102", cwd=project)
    assert result.returncode == 0 and result.stdout.startswith("# PFT102 adapter-name-inside-prefix")
    assert cli("rule", "reused-adapter-name", cwd=project).stdout.startswith("# PFT107")
    assert cli("rule", "--all", cwd=project).stdout.count("\n# PFT") == len(RULES) - 1
    assert cli("rule", "PFT999", cwd=project).returncode == 2


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("flake8-peft-names")
    assert script.exists()
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True).stdout
    assert version.startswith("flake8-peft-names")
