"""How editors lint an unsaved buffer: `flake8 -` with `--stdin-display-name` (pylsp, VS Code's flake8
extension). The finding, the config found by the display name, and `# noqa` must all work there.
(tests/test_options.py covers per-file-ignores matching the display name; test_rule_examples.py each
rule's example through stdin.)"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.flake8_run import findings, flake8
from tests.test_cli import cli, positions

pytestmark = pytest.mark.prepush  # tier (tests/conftest.py)

SOURCE = """\
from peft import get_peft_model

a = get_peft_model(base, config, adapter_name="lora")
b = get_peft_model(base, config, adapter_name="lora")  # noqa: PFT102
c = get_peft_model(base, config, adapter_name="lora")  # noqa: E501
d = get_peft_model(
    base, config, adapter_name="lora",  # noqa: PFT1
)
"""
UNSILENCED = [(3, 47, "PFT102"), (5, 47, "PFT102")]
EVERY = [(3, 47, "PFT102"), (4, 47, "PFT102"), (5, 47, "PFT102"), (7, 32, "PFT102")]


def stdin_flake8(project: Path, display_name: str, *args: str, source: str = SOURCE):
    return flake8(
        "--select=PFT", *args, f"--stdin-display-name={display_name}", "-", cwd=project, stdin=source, isolated=False
    )


def test_noqa_applies_to_the_buffer_and_disable_noqa_lifts_it(tmp_path: Path) -> None:
    assert findings(stdin_flake8(tmp_path, "train.py")) == UNSILENCED
    assert findings(stdin_flake8(tmp_path, "train.py", "--disable-noqa")) == EVERY


def test_the_display_name_is_the_reported_path(tmp_path: Path) -> None:
    shown = flake8(
        "--select=PFT", "--format=%(path)s", "--stdin-display-name=src/train.py", "-", cwd=tmp_path, stdin=SOURCE
    )
    assert shown.stdout.splitlines() == ["src/train.py"] * len(UNSILENCED)


def test_config_is_found_from_the_working_directory_and_matched_by_the_display_name(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text(
        "[flake8]\nper-file-ignores = scratch/*.py:PFT102\nextend-exclude = generated/*\n"
    )
    assert findings(stdin_flake8(tmp_path, "scratch/try.py")) == []
    assert findings(stdin_flake8(tmp_path, "train.py")) == UNSILENCED  # another name: not ignored
    assert findings(stdin_flake8(tmp_path, "stdin")) == UNSILENCED  # no name: nothing matches
    assert stdin_flake8(tmp_path, "generated/model.py").stdout == ""  # excluded by name: not checked at all


def test_plugin_options_in_the_config_apply_to_the_buffer(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text("[flake8]\npeft-version = >=0.18\n")  # PFT102 cannot happen there
    assert findings(stdin_flake8(tmp_path, "train.py")) == []


def test_columns_count_characters_in_a_buffer_with_non_ascii_text(tmp_path: Path) -> None:
    source = 'from peft import get_peft_model\nm = get_peft_model(base, config, adapter_name="lora")  # é\n'
    source = source.replace("m = ", "é = 'ü'; m = ")
    column = source.splitlines()[1].index('"lora"') + 1
    assert findings(stdin_flake8(tmp_path, "train.py", source=source)) == [(2, column, "PFT102")]


def test_the_cli_reads_stdin_exactly_as_flake8_does(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[flake8]\nper-file-ignores = scratch/*.py:PFT102\n")
    for name in ("train.py", "scratch/try.py"):
        ours = cli("check", f"--stdin-display-name={name}", "-", cwd=tmp_path, stdin=SOURCE)
        theirs = findings(stdin_flake8(tmp_path, name))
        assert [(row, col, code) for _, row, col, code in positions(ours.stdout)] == theirs
        assert {path for path, *_ in positions(ours.stdout)} <= {name}
