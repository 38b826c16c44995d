"""Options behave as flake8 users expect, on the command line and in every config file flake8 reads."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.flake8_run import findings, flake8

pytestmark = pytest.mark.prepush  # tier (tests/conftest.py)

SOURCE = """\
from peft import get_peft_model

model = get_peft_model(base_model, config(modules_to_save=["h"]), adapter_name="lora")
model.load_adapter("out", adapter_name="lora_A")
model.set_adapter("ia3")
"""
LORA_102 = (3, 80, "PFT102")
LORA_A_103 = (4, 40, "PFT103")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def test_default_options_report_every_version_from_0_13(project: Path) -> None:
    assert findings(flake8("train.py", cwd=project)) == [LORA_102, LORA_A_103]


@pytest.mark.peft_installed("0.21.2")  # whatever is installed (tests/conftest.py)
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (">=0.18", [LORA_A_103]),  # PFT102 is fixed in 0.18, PFT103 in 0.21
        (">=0.21", [(4, 40, "PFT104")]),  # 'lora_A' as a second adapter strips the others' checkpoints
        ("==0.17.1", [LORA_102, LORA_A_103]),
        ("==0.16.1", [LORA_102, LORA_A_103]),  # a release the version table does not list
        ("<0.15", [LORA_102, LORA_A_103]),
        ("installed", [(4, 40, "PFT104")]),  # peft_installed above
    ],
)
def test_peft_version_limits_the_hazards(project: Path, spec: str, expected: list) -> None:
    assert findings(flake8("--select=PFT", f"--peft-version={spec}", "train.py", cwd=project)) == expected


@pytest.mark.parametrize("config_file", ["setup.cfg", "tox.ini", ".flake8"])
def test_options_are_read_from_every_config_file(project: Path, config_file: str) -> None:
    (project / config_file).write_text("[flake8]\npeft-version = >=0.18\npeft-methods = ia3, lora\n")
    assert findings(flake8("train.py", cwd=project, isolated=False)) == [LORA_A_103]
    (project / config_file).write_text("[flake8]\npeft-version = <0.18\npeft-methods = ia3, lora\n")
    assert findings(flake8("train.py", cwd=project, isolated=False)) == [LORA_102, LORA_A_103, (5, 19, "PFT102")]


def test_peft_methods_override_what_the_code_says(project: Path) -> None:
    result = flake8("--peft-methods=IA3Config", "train.py", cwd=project)
    # alone, 'lora' and 'lora_A' are fine for IA3; together they overlap
    assert findings(result) == [(4, 40, "PFT106"), (5, 19, "PFT102")]


def test_extend_ignore_and_select(project: Path) -> None:
    assert findings(flake8("--extend-ignore=PFT102", "train.py", cwd=project)) == [LORA_A_103]
    assert findings(flake8("--select=PFT103", "train.py", cwd=project)) == [LORA_A_103]
    assert findings(flake8("--select=E,W", "train.py", cwd=project)) == []


def test_noqa_and_disable_noqa(project: Path) -> None:
    (project / "train.py").write_text(SOURCE.replace('"lora")', '"lora")  # noqa: PFT102'), encoding="utf-8")
    assert findings(flake8("--select=PFT", "train.py", cwd=project)) == [LORA_A_103]
    assert findings(flake8("--select=PFT", "--disable-noqa", "train.py", cwd=project)) == [LORA_102, LORA_A_103]
    (project / "train.py").write_text(SOURCE.replace('"lora")', '"lora")  # noqa: PFT103'), encoding="utf-8")
    assert findings(flake8("--select=PFT", "train.py", cwd=project)) == [LORA_102, LORA_A_103]


def test_stdin_reads_config_by_display_name(project: Path) -> None:
    sub = project / "pkg"
    sub.mkdir()
    (project / "setup.cfg").write_text("[flake8]\nper-file-ignores = pkg/*.py:PFT103\n")
    result = flake8("--stdin-display-name=pkg/train.py", "-", cwd=project, stdin=SOURCE, isolated=False)
    assert findings(result) == [LORA_102]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--peft-version=banana", "peft-version='banana' is not a PEP 440 version specifier"),
        ("--peft-methods=lora,nope", "peft-methods: unknown method 'nope'"),
    ],
)
def test_bad_option_values_give_one_line_without_traceback(project: Path, option: str, message: str) -> None:
    result = flake8(option, "train.py", cwd=project)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
