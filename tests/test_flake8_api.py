"""flake8_api under the installed flake8: scripts/test-flake8-majors.sh runs this module against the newest
release of each supported major (5, 6, 7), each in its own environment with flake8, packaging and pytest
only. A flake8 release that renames, moves or changes an internal the package relies on fails here.

The last tests run the plugin under flake8 and the `check` command as subprocesses, with a config file
that selects codes and sets --peft-version/--peft-methods: the path that broke under flake8 5.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import flake8
import pytest

from flake8_peft_names import flake8_api
from flake8_peft_names.flake8_api import (
    NOQA_FILE,
    NOQA_INLINE,
    Selection,
    comma_separated,
    files_to_codes,
    is_valid_code_prefix,
)

FLAKE8_MAJOR = int(flake8.__version__.split(".")[0])


def test_the_installed_flake8_is_a_supported_major() -> None:
    print(f"flake8 {flake8.__version__}")
    assert FLAKE8_MAJOR in (5, 6, 7)


@pytest.mark.parametrize("code", ["E", "W5", "W503", "PFT", "PFT1", "PFT102", "ABC123", "C90"])
def test_valid_code_prefixes(code: str) -> None:
    assert is_valid_code_prefix(code)


@pytest.mark.parametrize("code", ["", "pft1", "PFT1024", "ABCD", "PFT-1", "E1A", "1E", "E 1", "Ｅ1"])
def test_invalid_code_prefixes(code: str) -> None:
    assert not is_valid_code_prefix(code)


def test_the_code_prefix_pattern_is_flake8s_own_where_flake8_has_one() -> None:
    from flake8 import defaults

    if FLAKE8_MAJOR >= 6:
        assert flake8_api.VALID_CODE_PREFIX is defaults.VALID_CODE_PREFIX
    else:
        assert not hasattr(defaults, "VALID_CODE_PREFIX")
        assert flake8_api.VALID_CODE_PREFIX is flake8_api._VALID_CODE_PREFIX_6_0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PFT1,E501", ["PFT1", "E501"]),
        (" PFT1 , E501 ,, W ", ["PFT1", "E501", "W"]),
        ("PFT1\n  E501\n", ["PFT1", "E501"]),  # a config file's multi-line value
        ("lora, ia3", ["lora", "ia3"]),
        ("", []),
        (" , ", []),
    ],
)
def test_comma_separated(value: str, expected: list[str]) -> None:
    assert comma_separated(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("train.py:PFT1", [("train.py", ["PFT1"])]),
        ("a.py:PFT1,E501 tests/*.py: PFT2", [("a.py", ["PFT1", "E501"]), ("tests/*.py", ["PFT2"])]),
        ("\n  a.py: PFT1\n  b.py, c.py: PFT201 E501\n", [("a.py", ["PFT1"]), ("b.py", ["PFT201", "E501"]),
                                                         ("c.py", ["PFT201", "E501"])]),
    ],
)
def test_files_to_codes(value: str, expected: list[tuple[str, list[str]]]) -> None:
    assert files_to_codes(value) == expected


@pytest.mark.parametrize("value", ["train.py", "a.py:PFT1 b.py", "a.py::PFT1", "a.py PFT1"])
def test_files_to_codes_rejects_what_flake8_rejects_with_one_line(value: str) -> None:
    with pytest.raises(ValueError) as raised:
        files_to_codes(value)
    message = str(raised.value)
    assert message and "\n" not in message and not message.endswith(".")


PFT_CODES = ["PFT000", "PFT101", "PFT102", "PFT107", "PFT201", "PFT204"]


def chosen(**options: object) -> list[str]:
    selection = Selection(default_select=["PFT"], **options)  # type: ignore[arg-type]
    return [code for code in PFT_CODES if selection.selected(code)]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, PFT_CODES),  # the plugin's codes are selected by default, E/W defaults notwithstanding
        ({"select": ["E", "W"]}, []),  # select replaces the defaults
        ({"select": ["PFT1"]}, ["PFT101", "PFT102", "PFT107"]),
        ({"select": ["E"], "extend_select": ["PFT2"]}, ["PFT201", "PFT204"]),
        ({"ignore": ["PFT1"]}, ["PFT000", "PFT201", "PFT204"]),
        ({"ignore": []}, PFT_CODES),
        ({"extend_ignore": ["PFT102", "PFT2"]}, ["PFT000", "PFT101", "PFT107"]),
        ({"ignore": ["PFT"], "extend_select": ["PFT1"]}, ["PFT101", "PFT102", "PFT107"]),  # longer prefix wins
        ({"select": ["PFT"], "ignore": ["PFT10"]}, ["PFT000", "PFT201", "PFT204"]),
        ({"select": ["PFT1"], "extend_ignore": ["PFT"]}, ["PFT101", "PFT102", "PFT107"]),
        ({"select": ["PFT102"], "ignore": ["PFT1"]}, ["PFT102"]),
        ({"extend_select": ["PFT102"], "extend_ignore": ["PFT1"]}, ["PFT000", "PFT102", "PFT201", "PFT204"]),
    ],
)
def test_selection_decides_as_flake8(options: dict, expected: list[str]) -> None:
    assert chosen(**options) == expected


def test_selection_without_default_select_reports_nothing_unless_selected() -> None:
    assert not Selection().selected("PFT102")
    assert Selection(select=["PFT"]).selected("PFT102")


@pytest.mark.parametrize(
    ("line", "codes"),
    [
        ("x = 1  # noqa", None),
        ("x = 1  # NOQA", None),
        ("x = 1  # noqa-ish comment", None),  # flake8 reads a blanket noqa here
        ("x = 1  # noqa: PFT102", "PFT102"),
        ("x = 1  # noqa:PFT102,E501", "PFT102,E501"),
        ("x = 1  # noqa: PFT102, E501", "PFT102, E501"),
        ("x = 1  # noqa: PFT102 E501", "PFT102 E501"),
        ("x = 1  # type: ignore  # noqa: PFT1", "PFT1"),
    ],
)
def test_inline_noqa(line: str, codes: str | None) -> None:
    match = NOQA_INLINE.search(line)
    assert match is not None
    assert match.group("codes") == codes


@pytest.mark.parametrize("line", ["x = 1", "x = '# no qa'", "x = 1  #noqa", "# flake8 is great"])
def test_no_inline_noqa(line: str) -> None:
    assert NOQA_INLINE.search(line) is None


@pytest.mark.parametrize(
    ("line", "skips"),
    [("# flake8: noqa", True), ("# flake8=noqa\n", True), ("  # FLAKE8: NOQA", True), ("x = 1  # flake8: noqa", False),
     ("# noqa", False), ("# flake8 noqa", False)],
)
def test_file_level_noqa(line: str, skips: bool) -> None:
    assert bool(NOQA_FILE.match(line)) is skips


# ---------------------------------------------------------------------------------------------
# The plugin under this flake8, and the `check` command with flake8's config rules

SOURCE = """\
from peft import get_peft_model

model = get_peft_model(base, config, adapter_name="lora")
model.load_adapter("out", adapter_name="lora_A")
model = get_peft_model(base, config, adapter_name="ia3")  # noqa: PFT102
model.add_adapter("copy", config)
"""
# PFT104 ('lora_A') ignored; PFT101 ('copy', a ParameterDict attribute) only with IA3 among the methods;
# PFT102 ('lora', inside 'lora_') within <0.18; the `# noqa` silences line 5
CONFIG = """\
[flake8]
select = PFT1
extend-ignore = PFT104
peft-version = <0.18
peft-methods = lora,
    ia3
"""
EXPECTED = ["3 PFT102", "6 PFT101"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(SOURCE, encoding="utf-8")
    (tmp_path / "setup.cfg").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def run(project: Path, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *command], cwd=project, capture_output=True, text=True, timeout=300)


def rows(output: str) -> list[str]:
    return sorted(" ".join(line.split()[:2]) for line in output.splitlines())


@pytest.mark.prepush  # starts processes (tiers: tests/conftest.py)
def test_the_plugin_reads_its_options_and_the_selection_from_the_config_file(project: Path) -> None:
    result = run(project, "flake8", "--format=%(row)d %(code)s", "train.py")
    assert result.returncode == 1, result
    assert rows(result.stdout) == EXPECTED, result


@pytest.mark.prepush  # starts processes (tiers: tests/conftest.py)
def test_the_command_reads_the_same_config_with_this_flake8(project: Path) -> None:
    result = run(project, "flake8_peft_names", "check", "train.py")
    assert result.returncode == 1, result
    shown = [line.split(":", 3) for line in result.stdout.splitlines()]  # train.py:3:24: PFT102 ...
    assert sorted(f"{row} {rest.split()[0]}" for _, row, _, rest in shown) == EXPECTED, result


@pytest.mark.prepush  # starts processes (tiers: tests/conftest.py)
def test_the_command_names_the_config_file_of_a_bad_code(project: Path) -> None:
    (project / "setup.cfg").write_text("[flake8]\nextend-select = pft1\n", encoding="utf-8")
    result = run(project, "flake8_peft_names", "check", "train.py")
    assert result.returncode == 2 and result.stdout == "", result
    assert result.stderr == (
        "flake8-peft-names: extend-select: 'pft1' is not a valid error code prefix (in setup.cfg)\n"
    )


@pytest.mark.prepush  # starts processes (tiers: tests/conftest.py)
def test_the_options_help_is_the_spec_s_under_flake8_and_the_command(project: Path) -> None:
    from flake8_peft_names.peft_options import PEFT_OPTIONS

    for command in (["flake8", "--help"], ["flake8_peft_names", "check", "--help"]):
        result = run(project, *command)
        assert result.returncode == 0, result
        shown = " ".join(result.stdout.split())
        for option in PEFT_OPTIONS:
            usage = option.flag if option.switch else f"{option.flag} {option.metavar}"
            assert usage in shown and " ".join(option.help.split()) in shown, command
