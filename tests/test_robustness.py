"""No input crashes the flake8 plugin or the command; a fix never leaves a broken or half-written file.

Hostile files (syntax errors, newer Python syntax, odd encodings, deep nesting, huge files, code LibCST
reads differently from `ast`) go through real flake8 and the real command, both as subprocesses, as
users run them. A file that cannot be read, decoded, parsed or fixed is reported once, on one line, and
the run goes on; exit code 2 means a usage error only.
"""
from __future__ import annotations

import ast
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

from flake8_peft_names.fixer import MAX_LIBCST_NESTING, FixError, fix_source
from flake8_peft_names.plugin import Plugin
from flake8_peft_names.rule import Applicability
from tests.flake8_run import FORMAT

pytestmark = pytest.mark.full  # tier (tests/conftest.py)

HEADER = "from peft import get_peft_model\nmodel = get_peft_model(base, config, adapter_name='lora')\n"
HEADER_COL = 51  # 1-based column of 'lora' in HEADER's second line
FIXED_HEADER = HEADER.replace("'lora'", "'adapter_lora'")
BOM = b"\xef\xbb\xbf"
UNSAFE = frozenset({Applicability.SAFE, Applicability.UNSAFE})

# flake8 with some of its own plugins left out: pyflakes recurses once per nesting level and aborts the
# whole flake8 run on code nested some hundreds of levels (PyCQA/flake8#1792), whatever ours does.
FLAKE8_WITHOUT = """
import sys
from flake8.main.cli import main
from flake8.plugins import finder
dropped = set(sys.argv[1].split(","))
discover = finder._find_importlib_plugins
finder._find_importlib_plugins = lambda: (p for p in discover() if p.package not in dropped)
raise SystemExit(main(sys.argv[2:]))
"""


@dataclass(frozen=True)
class Case:
    """A hostile file and what each front end must say about it."""

    raw: bytes
    line: Optional[int] = 2  # line of the PFT102 finding in HEADER; None: the file cannot be checked
    error: Optional[str] = None  # `check` reports `<path>: error: <error>...` (None: no error)
    fix_error: Optional[str] = None  # `check --fix` reports `<path>: error: cannot fix: <fix_error>...`
    # "all": flake8 as installed; "ours": flake8 without pyflakes, mccabe and pycodestyle; "no": not run, as
    # flake8 itself raises RecursionError in its own ast.parse (checker.py, build_ast) before any plugin runs
    flake8: str = "all"


def _text(source: str, **kwargs) -> Case:
    return Case(source.encode("utf-8"), **kwargs)


def _deep(expression: str) -> str:
    return HEADER + f"value = {expression}\n"


def _unreadable(source: str | bytes, error: str) -> Case:
    return Case(source.encode("utf-8") if isinstance(source, str) else source, line=None, error=error)


LINE_3, LINE_5 = "syntax error at line 3", "syntax error at line 5"
LIBCST_PARSE = "LibCST cannot parse this file"
LIBCST_BYTES = "LibCST cannot reproduce this file byte for byte"
TOO_DEEP = "too deeply nested for LibCST"


CASES: dict[str, Case] = {
    # Readable, checked and fixed like any file.
    "bom.py": Case(BOM + HEADER.encode()),
    "crlf.py": Case(HEADER.replace("\n", "\r\n").encode() + b"x = 1\r\n"),
    "form_feeds.py": _text(HEADER + "\x0c\n\ndef f():\n    return 1\n\x0c\n"),
    "latin1_cookie.py": Case(b"# -*- coding: latin-1 -*-\n" + HEADER.encode() + b"city = 'Li\xe8ge'\n", line=3),
    "cp1252_cookie.py": Case(b"# coding: cp1252\n" + HEADER.encode() + b"price = '\x80 5'\n", line=3),
    "non_ascii.py": _text("café = 'ünïcödé 🙂'\n" + HEADER, line=3),
    "match_statement.py": _text(
        HEADER + "match command:\n    case [x, *rest]:\n        pass\n    case _:\n        x = 0\n"
    ),
    "long_line.py": _text(HEADER + "blob = '" + "a" * 5_000_000 + "'\n"),
    "escaped_surrogate.py": _text(HEADER + "odd = '\\ud800'\nmodel.load_adapter('p', adapter_name='a.\\udcff')\n"),
    "unary_900.py": _text(_deep("-" * 900 + "1"), flake8="ours"),  # deep, within what the fixer takes
    # Cannot be read as Python: reported once, the others still checked.
    "syntax_error.py": _unreadable(HEADER + "def broken(:\n", LINE_3),
    "python2.py": _unreadable(HEADER + "print 'hello'\n", LINE_3),
    "unterminated.py": _unreadable(HEADER + 'doc = """never closed\n', LINE_3),
    "tabs.py": _unreadable(HEADER + "if x:\n\tif y:\n        pass\n", LINE_5),
    "null_bytes.py": _unreadable(HEADER.encode() + b"x = 1\x00\n", "syntax error: source code string cannot"),
    "invalid_utf8.py": _unreadable(HEADER.encode() + b"s = '\xff\xfe'\n", "cannot decode: 'utf-8' codec can't decode"),
    "unknown_cookie.py": _unreadable(b"# coding: klingon\n" + HEADER.encode(), "cannot decode: unknown encoding"),
    "punycode_cookie.py": _unreadable(b"# coding: punycode\n" + HEADER.encode(), "cannot decode:"),
    "bom_and_latin1_cookie.py": _unreadable(
        BOM + b"# coding: latin-1\n" + HEADER.encode(), "cannot decode: the file starts with a UTF-8 BOM"
    ),
    "parentheses_300.py": _unreadable(_deep("(" * 300 + "1" + ")" * 300), "syntax error at line 3: too many nested"),
    "beyond_ast_5000.py": Case(
        _deep(" + ".join(["x"] * 5000)).encode(), line=None, error="cannot parse: too deeply nested", flake8="no"
    ),
    # Python 3.12 to 3.14 syntax: syntax errors on this Python, reported as such.
    "py312_type_params.py": _unreadable(HEADER + "def first[T](items: list[T]) -> T:\n    return items[0]\n", LINE_3),
    "py312_type_alias.py": _unreadable(HEADER + "type Vector = list[float]\n", LINE_3),
    "py312_fstring.py": _unreadable(HEADER + 'label = f"{", ".join(names)}"\n', LINE_3),
    "py314_tstring.py": _unreadable(HEADER + 'query = t"SELECT {name}"\n', LINE_3),
    "py314_except.py": _unreadable(HEADER + "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n", LINE_5),
    # `ast` accepts them, LibCST cannot parse or cannot reproduce them: checked, not fixed, left as they are.
    "implicit_concat_100k.py": _text(_deep("(" + " ".join(['"a"'] * 100_000) + ")"), fix_error=LIBCST_PARSE),
    "leading_form_feed.py": _text("\x0c" + HEADER, fix_error=LIBCST_BYTES),
    "trailing_blank_lines.py": _text(HEADER + "\n\n    ", fix_error=LIBCST_BYTES),
    "lone_cr.py": Case(HEADER.replace("\n", "\r").encode(), fix_error=LIBCST_BYTES),
    # Thousands of levels, within what `ast` parses: checked; too deep for LibCST to fix.
    "binop_2500.py": _text(_deep(" + ".join(["x"] * 2500)), fix_error=TOO_DEEP, flake8="ours"),
    "attribute_2500.py": _text(_deep("model" + ".child" * 2500), fix_error=TOO_DEEP, flake8="ours"),
    "not_2500.py": _text(_deep("not " * 2500 + "x"), fix_error=TOO_DEEP, flake8="ours"),
    "calls_2500.py": _text(_deep("f" + "()" * 2500), fix_error=TOO_DEEP, flake8="ours"),
    "name_from_2500_strings.py": _text(
        HEADER + "NAME = " + " + ".join(["'x'"] * 2500) + "\nmodel.load_adapter('p', adapter_name=NAME)\n",
        fix_error=TOO_DEEP, flake8="ours",
    ),
}
CHECKED = sorted(name for name, case in CASES.items() if case.line is not None)
UNCHECKED = sorted(name for name, case in CASES.items() if case.line is None)


def cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "flake8_peft_names", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=timeout)


def flake8(*args: str, cwd: Path, without: str = "") -> subprocess.CompletedProcess:
    launcher = ["-c", FLAKE8_WITHOUT, without] if without else ["-m", "flake8"]
    command = [sys.executable, *launcher, "--isolated", f"--format=%(path)s:{FORMAT}", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=600)


def error_lines(stderr: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in stderr.splitlines():
        path, sep, message = line.partition(": error: ")
        if sep:
            found.setdefault(Path(path).name, []).append(message)
    return found


def finding_lines(stdout: str) -> dict[str, list[tuple[int, int, str]]]:
    """`path:line:col: CODE message` (the command) or `path:line:col:CODE` (flake8 with FORMAT)."""
    found: dict[str, list[tuple[int, int, str]]] = {}
    for line in stdout.splitlines():
        path, row, col, rest = line.split(":", 3)
        found.setdefault(Path(path).name, []).append((int(row), int(col), rest.split()[0]))
    return found


def compiles(raw: bytes) -> bool:
    from importlib.util import decode_source

    try:
        compile(decode_source(raw), "<fixed>", "exec", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError):
        return False
    return True


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr[-5000:]
    assert "Traceback" not in result.stdout, result.stdout[-5000:]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    for name, case in CASES.items():
        (folder / name).write_bytes(case.raw)
    (folder / "clean.py").write_text(HEADER.replace("'lora'", "'sft'"))
    return folder


def copy_of(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(folder, target)
    return target


# ---------------------------------------------------------------------------------------------
# The command


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_check_reports_each_unreadable_file_once_and_goes_on(hostile: Path, jobs: str) -> None:
    result = cli("check", "--no-progress", "-j", jobs, ".", cwd=hostile)
    no_traceback(result)
    assert result.returncode == 1
    errors, findings = error_lines(result.stderr), finding_lines(result.stdout)
    for name in UNCHECKED:
        assert len(errors.get(name, [])) == 1, (name, errors.get(name))
        assert errors[name][0].startswith(CASES[name].error), (name, errors[name])
        assert name not in findings
    for name in CHECKED:
        assert name not in errors, (name, errors[name])
        assert (CASES[name].line, HEADER_COL, "PFT102") in findings[name], (name, findings.get(name))
    assert all(len(lines) == 1 for lines in errors.values())
    assert "PFT000" not in result.stdout
    assert "clean.py" not in findings and "clean.py" not in errors


def test_fix_changes_only_what_it_can_fix_and_every_fixed_file_compiles(hostile: Path, tmp_path: Path) -> None:
    project = copy_of(hostile, tmp_path)
    result = cli("check", "--no-progress", "--fix", "--unsafe-fixes", "-j", "2", ".", cwd=project)
    no_traceback(result)
    assert result.returncode == 1  # errors, and the findings of the files that could not be fixed
    errors = error_lines(result.stderr)
    for name, case in CASES.items():
        after = (project / name).read_bytes()
        if case.line is None:
            assert after == case.raw and len(errors[name]) == 1 and errors[name][0].startswith(case.error), name
        elif case.fix_error:
            assert after == case.raw, name
            assert len(errors[name]) == 1 and errors[name][0].startswith(f"cannot fix: {case.fix_error}"), errors[name]
        else:
            assert name not in errors, (name, errors[name])
            assert after != case.raw and compiles(after), name
            assert b"adapter_lora" in after and b"'lora'" not in after, name
    for name in ("bom.py", "crlf.py", "latin1_cookie.py", "cp1252_cookie.py"):  # encoding and newlines kept
        assert (project / name).read_bytes() == CASES[name].raw.replace(b"'lora'", b"'adapter_lora'")
    assert (project / "clean.py").read_bytes() == (hostile / "clean.py").read_bytes()
    again = cli("check", "--no-progress", "--fix", "--unsafe-fixes", "-j", "1", ".", cwd=project)
    no_traceback(again)
    assert "Fixed" not in again.stderr  # a second run has nothing left to fix


def test_diff_of_hostile_files_writes_nothing(hostile: Path, tmp_path: Path) -> None:
    project = copy_of(hostile, tmp_path)
    result = cli("check", "--no-progress", "--diff", "--unsafe-fixes", ".", cwd=project)
    no_traceback(result)
    assert result.returncode == 1
    assert all((project / name).read_bytes() == case.raw for name, case in CASES.items())
    assert "+model = get_peft_model(base, config, adapter_name='adapter_lora')" in result.stdout


def test_diff_applied_by_patch_and_git_gives_what_fix_writes(hostile: Path, tmp_path: Path) -> None:
    """Cookies, BOM, CRLF, lone CR, form feeds, U+2028, a missing last newline: the diff is GNU diff's."""
    project = copy_of(hostile, tmp_path)
    for name, source in LINE_ENDINGS.items():
        (project / name).write_bytes(source.encode("utf-8"))
    (project / "no_last_newline.py").write_bytes(HEADER.rstrip("\n").encode())
    command = [sys.executable, "-m", "flake8_peft_names", "check", "--no-progress", "--unsafe-fixes", "."]
    diff = subprocess.run([*command, "--diff"], cwd=project, capture_output=True, timeout=600).stdout
    assert b"\\ No newline at end of file" in diff and b"\x0c" in diff
    patched, applied = tmp_path / "patched", tmp_path / "applied"
    for target in (patched, applied):
        shutil.copytree(project, target)
    subprocess.run(["patch", "-p1", "--quiet", "--batch"], input=diff, cwd=patched, check=True, timeout=300)
    subprocess.run(["git", "apply", "-p1", "-"], input=diff, cwd=applied, check=True, timeout=300)
    subprocess.run([*command, "--fix"], cwd=project, capture_output=True, timeout=600)
    fixed = {p.name: p.read_bytes() for p in project.iterdir()}
    assert fixed["no_last_newline.py"] == FIXED_HEADER.rstrip("\n").encode() and b"'q'" not in fixed["separators.py"]
    assert {p.name: p.read_bytes() for p in patched.iterdir()} == fixed
    assert {p.name: p.read_bytes() for p in applied.iterdir()} == fixed


LINE_ENDINGS = {
    # str.splitlines() also splits at form feeds, \x85 and U+2028; Python and flake8 do not
    "separators.py": "from peft import get_peft_model\nx = 'a\u2028b'  # \x0c and \x85 end no line\n"
    "model = get_peft_model(base, config, adapter_name='lora')  # noqa: PFT102\n"
    "model = get_peft_model(base, config, adapter_name='lora_A')  # éé\n"
    "m = 'ééé'; get_peft_model(base, config, adapter_name='q')\n",
    "lone_cr.py": "from peft import get_peft_model\rmodel = get_peft_model(base, config, adapter_name='lora')  # noqa\r"
    "model = get_peft_model(\r    base, config, adapter_name='q')  # noqa: PFT105\r"
    "m = 'é'; get_peft_model(m, adapter_name='k')\r",
}


def test_check_agrees_with_flake8_on_lines_and_noqa_whatever_the_line_endings(tmp_path: Path) -> None:
    for name, source in LINE_ENDINGS.items():
        (tmp_path / name).write_bytes(source.encode("utf-8"))
        (tmp_path / f"crlf_{name}").write_bytes(source.replace("\r", "\n").replace("\n", "\r\n").encode("utf-8"))
    result = cli("check", "--no-progress", ".", cwd=tmp_path)
    no_traceback(result)
    ours = {name: found for name, found in finding_lines(result.stdout).items()}
    theirs = finding_lines(flake8("--select=PFT", *sorted(p.name for p in tmp_path.iterdir()), cwd=tmp_path).stdout)
    assert ours == theirs and len(ours) == 4, (ours, theirs)


def test_missing_dangling_and_read_only_files_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(HEADER)
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    read_only = tmp_path / "read_only.py"
    read_only.write_text(HEADER)
    read_only.chmod(0o444)
    result = cli("check", "--no-progress", "--fix", "--unsafe-fixes", ".", "missing.py", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 1
    errors = error_lines(result.stderr)
    assert errors["dangling.py"][0].startswith("cannot read:")
    assert errors["missing.py"][0].startswith("cannot read:")
    assert errors["read_only.py"][0].startswith("cannot write:")
    assert read_only.read_text() == HEADER and (tmp_path / "good.py").read_text() == FIXED_HEADER


# The command with a bug planted in the check of files named boom*.py. A script, not `-c`: the worker
# processes (start method spawn) run its top level as `__mp_main__`, so they get the bug too.
PLANTED_BUG = """
import sys
from flake8_peft_names import file_job
checked = file_job.reported
def reported(source, shown, *rest):
    if "boom" in shown:
        raise KeyError("planted bug")
    return checked(source, shown, *rest)
file_job.reported = reported
if __name__ == "__main__":
    from flake8_peft_names.cli import main
    raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("args", [["-j1"], ["-j2"], ["-j2", "--fix", "--unsafe-fixes"]])
def test_a_bug_of_ours_on_one_file_is_reported_and_the_run_goes_on(tmp_path: Path, args: list[str]) -> None:
    project, script = tmp_path / "project", tmp_path / "planted_bug.py"
    project.mkdir()
    script.write_text(PLANTED_BUG)
    for name in ("boom.py", "good.py", "later.py"):
        (project / name).write_text(HEADER)
    command = [sys.executable, str(script), "check", "--no-progress", *args, "."]
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=300)
    no_traceback(result)
    assert result.returncode == 1
    assert error_lines(result.stderr) == {"boom.py": ["internal error: KeyError: 'planted bug'; please report it"]}
    if "--fix" in args:
        assert (project / "good.py").read_text() == (project / "later.py").read_text() == FIXED_HEADER
        assert (project / "boom.py").read_text() == HEADER
    else:
        assert set(finding_lines(result.stdout)) == {"good.py", "later.py"}


def test_python_warnings_about_the_checked_code_are_not_printed(tmp_path: Path) -> None:
    """An invalid escape: a SyntaxWarning shown by default from Python 3.12 on (here: -W always)."""
    (tmp_path / "train.py").write_text(HEADER + 'pattern = "\\d+"\n')
    command = [sys.executable, "-W", "always", "-m", "flake8_peft_names", "check", "--fix", "--unsafe-fixes", "."]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "Warning" not in result.stderr, result.stderr
    assert (tmp_path / "train.py").read_text().startswith(FIXED_HEADER)


def test_usage_errors_alone_exit_with_2(tmp_path: Path) -> None:
    (tmp_path / "syntax_error.py").write_text("def broken(:\n  peft\n")
    assert cli("check", "syntax_error.py", cwd=tmp_path).returncode == 1
    assert cli("check", "--no-such-option", cwd=tmp_path).returncode == 2
    assert cli("check", "--fix", "--diff", cwd=tmp_path).returncode == 2


# ---------------------------------------------------------------------------------------------
# The flake8 plugin


def test_flake8_reports_hostile_files_without_crashing(hostile: Path) -> None:
    names = sorted(n for n, c in CASES.items() if c.flake8 == "all") + ["clean.py"]
    result = flake8("--select=PFT,E9", "-j", "2", *names, cwd=hostile)
    no_traceback(result)
    assert result.returncode == 1
    findings = finding_lines(result.stdout)
    assert not any(code == "PFT000" for found in findings.values() for _, _, code in found)
    for name in names:
        case = CASES.get(name)
        if case is None:
            assert name not in findings
        elif case.line is None:
            # flake8 reports E999 and runs no tree plugin, or decodes what Python cannot as latin-1
            codes = {code for _, _, code in findings[name]}
            assert codes and (codes <= {"E999", "E902"} or codes == {"PFT102"}), (name, findings[name])
        else:
            assert (case.line, HEADER_COL, "PFT102") in findings[name], (name, findings.get(name))


def test_flake8_plugin_on_code_nested_thousands_of_levels(hostile: Path) -> None:
    names = sorted(n for n, c in CASES.items() if c.flake8 == "ours")
    result = flake8("--select=PFT", *names, cwd=hostile, without="pyflakes,mccabe,pycodestyle")
    no_traceback(result)
    findings = finding_lines(result.stdout)
    assert sorted(findings) == names
    for name in names:
        assert findings[name][0] == (2, HEADER_COL, "PFT102") and all(c != "PFT000" for *_, c in findings[name])


def test_plugin_in_process_on_the_deepest_trees_ast_builds() -> None:
    for expression in (" + ".join(["x"] * 2500), "not " * 2500 + "x", "f" + "()" * 2500, "a" + "[0]" * 2500):
        source = _deep(expression)
        found = list(Plugin(ast.parse(source), source.splitlines(keepends=True)).run())
        assert [(line, col, text.split()[0]) for line, col, text, _ in found] == [(2, HEADER_COL - 1, "PFT102")]


def test_plugin_reports_an_internal_error_as_pft000_instead_of_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    import flake8_peft_names.engine as engine

    def broken(*args: object) -> list:
        raise KeyError("boom")

    monkeypatch.setattr(engine, "collect", broken)
    found = list(Plugin(ast.parse(HEADER), HEADER.splitlines(keepends=True)).run())
    assert len(found) == 1 and found[0][:2] == (1, 0)
    assert found[0][2].startswith("PFT000 flake8-peft-names could not check this file: KeyError: 'boom'")


# ---------------------------------------------------------------------------------------------
# A 50 MB file


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """50 MB: the header, then 50 assignments of a 1 MB string, and more findings at the end."""
    folder = tmp_path_factory.mktemp("huge")
    with open(folder / "huge.py", "w", encoding="utf-8") as stream:
        stream.write(HEADER)
        for n in range(50):
            stream.write(f"blob_{n} = '{'x' * 1_000_000}'\n")
        stream.write("model.load_adapter('out', adapter_name='lora_A')\n")
    assert (folder / "huge.py").stat().st_size > 50_000_000
    return folder


def test_a_50_mb_file_is_checked_and_fixed(huge: Path, tmp_path: Path) -> None:
    project = copy_of(huge, tmp_path)
    fixed = cli("check", "--no-progress", "--fix", "--unsafe-fixes", "huge.py", cwd=project)
    no_traceback(fixed)
    assert fixed.returncode == 0 and "Fixed 2 finding(s) in 1 file(s)." in fixed.stderr
    raw = (project / "huge.py").read_bytes()
    assert raw.startswith(FIXED_HEADER.encode()) and raw.endswith(b"adapter_name='adapter2_lora-A')\n")
    assert len(raw) > 50_000_000


def test_flake8_on_a_50_mb_file(huge: Path) -> None:
    # pycodestyle alone takes 15 s on this file: it is left out, flake8 still tokenizes and parses it all
    result = flake8("--select=PFT", "huge.py", cwd=huge, without="pyflakes,mccabe,pycodestyle")
    no_traceback(result)
    assert finding_lines(result.stdout)["huge.py"][0] == (2, HEADER_COL, "PFT102")


# ---------------------------------------------------------------------------------------------
# The fixer alone: what `ast` and LibCST disagree on never escapes as anything but FixError


def _findings_of(source: str) -> list:
    from flake8_peft_names.engine import check_tree
    from flake8_peft_names.settings import build_settings

    return check_tree(ast.parse(source), source.splitlines(keepends=True), build_settings())


def test_fixer_refuses_code_python_would_reject() -> None:
    """LibCST parses Python 3.12 syntax that this Python rejects: the fixer checks its output parses."""
    findings = _findings_of(HEADER + "def first(items):\n    return items[0]\n")
    newer = (HEADER + "def first[T](items):\n    return items[0]\n").encode()
    with pytest.raises(FixError, match="would not parse"):
        fix_source(newer, findings, UNSAFE)


def test_fixer_nesting_limit_is_the_documented_one() -> None:
    within = _deep("-" * (MAX_LIBCST_NESTING - 10) + "1")
    assert fix_source(within.encode(), _findings_of(within), UNSAFE).startswith(FIXED_HEADER.encode())
    beyond = _deep("-" * (MAX_LIBCST_NESTING + 10) + "1")
    with pytest.raises(FixError, match="too deeply nested"):
        fix_source(beyond.encode(), _findings_of(beyond), UNSAFE)
    assert sys.getrecursionlimit() < 20_000  # the raised limit of the fixer's thread does not leak


def test_fixer_turns_libcst_crashes_into_fix_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    import flake8_peft_names.fixer as fixer

    def crash(*args: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(fixer, "apply_fixes", crash)
    with pytest.raises(FixError, match="too deeply nested for LibCST"):
        fix_source(HEADER.encode(), _findings_of(HEADER), UNSAFE)

    def bug(*args: object) -> None:
        raise AttributeError("'Name' object has no attribute 'value'")

    monkeypatch.setattr(fixer, "apply_fixes", bug)
    with pytest.raises(FixError, match="internal error.*AttributeError.*please report it"):
        fix_source(HEADER.encode(), _findings_of(HEADER), UNSAFE)


# ---------------------------------------------------------------------------------------------
# Config errors: one line naming the option and the value, exit code 2, never a traceback

BAD_OPTIONS = [
    ("select", "PFT999", "select: 'PFT999' matches no rule of flake8-peft-names"),
    ("peft-version", ">=banana", "peft-version='>=banana' is not a PEP 440 version specifier"),
    ("peft-version", "<0.13", "peft-version='<0.13' matches no peft release this tool knows"),
    ("peft-methods", "lora,nosuchmethod", "peft-methods: unknown method 'nosuchmethod'"),
]


@pytest.mark.parametrize(("option", "value", "message"), BAD_OPTIONS)
@pytest.mark.parametrize("where", ["command line", "setup.cfg"])
@pytest.mark.parametrize("front_end", ["flake8", "check"])
def test_config_errors_are_one_line(
    tmp_path: Path, front_end: str, where: str, option: str, value: str, message: str
) -> None:
    (tmp_path / "train.py").write_text(HEADER)
    args = [f"--{option}={value}"] if where == "command line" else []
    if where == "setup.cfg":
        (tmp_path / "setup.cfg").write_text(f"[flake8]\n{option} = {value}\n")
    if front_end == "flake8":
        command = [sys.executable, "-m", "flake8", *args, "train.py"]
    else:
        command = [sys.executable, "-m", "flake8_peft_names", "check", *args, "train.py"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"flake8-peft-names: {message}"), result.stderr
    assert value.split(",")[-1] in lines[0] and result.stdout == ""


@pytest.mark.parametrize(
    "config",
    [
        "[flake8]\nper-file-ignores = train.py\n",
        "[flake8]\npeft-version = ===banana\n",
        "[flake8]\nselect = PFT\nselect = E\n",
    ],
)
def test_other_config_file_errors_of_the_command_are_one_line(tmp_path: Path, config: str) -> None:
    (tmp_path / "train.py").write_text(HEADER)
    (tmp_path / "setup.cfg").write_text(config)
    result = cli("check", "train.py", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode in (1, 2) and len(result.stderr.strip().splitlines()) <= 2, result.stderr


def test_pft000_may_be_ignored(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(HEADER)
    for command in (
        [sys.executable, "-m", "flake8", "--isolated", "--extend-ignore=PFT000", "train.py"],
        [sys.executable, "-m", "flake8_peft_names", "check", "--isolated", "--extend-ignore=PFT000", "train.py"],
    ):
        result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert result.returncode == 1 and "PFT102" in result.stdout, result
    result = flake8("--extend-ignore=PFT3", "train.py", cwd=tmp_path)
    message = "flake8-peft-names: extend-ignore: 'PFT3' matches no rule of flake8-peft-names\n"
    assert result.returncode == 2 and result.stderr == message


# ---------------------------------------------------------------------------------------------
# The checked code is never imported, executed or evaluated

PLANTED = """\
import pathlib
pathlib.Path({marker!r}).joinpath({name!r}).write_text("imported")
"""
CHECKED_CODE = """\
import sideeffect
import peft, torch, transformers, diffusers
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict
from sideeffect import ADAPTER as IMPORTED_NAME

__import__("sideeffect")
exec("import sideeffect")
eval("__import__('sideeffect')")
NAME = "lora"
config = LoraConfig(target_modules=["q_proj"], modules_to_save=["head"])
model = get_peft_model(base, config, adapter_name=NAME)
model.load_adapter("out", adapter_name="lora_A")
model.add_adapter("weight", config)
model.set_adapter(IMPORTED_NAME)
state = {{k: v for k, v in model.state_dict().items() if "lora" in k}}
torch.save(state, "adapter_model.bin")
model.load_state_dict(get_peft_model_state_dict(model), strict=False)
pathlib.Path({marker!r}).joinpath("executed").write_text("executed")

if __name__ == "__main__":
    pathlib.Path({marker!r}).joinpath("main").write_text("main")
"""


@pytest.mark.peft_installed("0.21.2")  # `peft-version = installed` below, whatever is installed
def test_checked_code_is_never_imported_or_run(tmp_path: Path) -> None:
    project, markers = tmp_path / "project", tmp_path / "markers"
    project.mkdir()
    markers.mkdir()
    # Modules named as the code's imports, where `python -m` looks first (the working directory).
    for module in ("sideeffect", "peft", "torch", "transformers", "diffusers"):
        (project / f"{module}.py").write_text(PLANTED.format(marker=str(markers), name=module) + "ADAPTER = 'x'\n")
    (project / "train.py").write_text(CHECKED_CODE.format(marker=str(markers)))
    (project / "setup.cfg").write_text("[flake8]\npeft-version = installed\n")

    runs = [
        [sys.executable, "-m", "flake8", "--select=PFT", "train.py"],
        [sys.executable, "-m", "flake8", "--select=PFT", "-j2", "train.py", "sideeffect.py"],
        [sys.executable, "-m", "flake8_peft_names", "check", "train.py"],
        [sys.executable, "-m", "flake8_peft_names", "check", "--peft-version=<0.18", "--output-format=json", "."],
        [sys.executable, "-m", "flake8_peft_names", "check", "--peft-version=<0.18", "--diff", "--unsafe-fixes", "."],
        [sys.executable, "-m", "flake8_peft_names", "check", "--peft-version=<0.18", "--fix", "--unsafe-fixes", "-j2"],
    ]
    before = (project / "train.py").read_text()
    outputs = []
    for command in runs:
        result = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=300)
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, (command, result.stderr)
        assert list(markers.iterdir()) == [], (command, list(markers.iterdir()))
        outputs.append(result.stdout + result.stderr)
    assert all("PFT104" in output for output in outputs[:4])  # every run checked the file ('weight')
    assert "+model.add_adapter(" in outputs[4] and "Fixed" in outputs[5]
    assert (project / "train.py").read_text() != before  # the fix ran, and still nothing was imported


# ---------------------------------------------------------------------------------------------
# Atomic writes: SIGKILL in the middle of a large fix run


FIX_RUN = ["-m", "flake8_peft_names", "check", "--no-progress", "--fix", "--unsafe-fixes", "-j1", "."]
# The command, paused inside write_atomically once the N-th fixed file's temporary copy is written and
# synced (before the rename): SIGKILL then lands in the middle of a write, every time.
PAUSED_IN_WRITE = """
import os, pathlib, sys, time
fsync, count = os.fsync, [0]
def paused(fd):
    fsync(fd)
    count[0] += 1
    if count[0] == int(sys.argv[1]):
        pathlib.Path(sys.argv[2]).write_text("paused")
        time.sleep(600)
os.fsync = paused
from flake8_peft_names.cli import main
raise SystemExit(main(sys.argv[3:]))
"""


def _killed_at_write(project: Path, tmp_path: Path, write: int, seconds: int, *extra: str) -> None:
    """Run the fix in `project`, paused inside its `write`-th file write, and kill it there (SIGKILL)."""
    ready = tmp_path / "paused"
    process = subprocess.Popen(
        [sys.executable, "-c", PAUSED_IN_WRITE, str(write), str(ready), *FIX_RUN[2:], *extra],
        cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + seconds
        while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.exists(), f"the fix run never reached write {write}"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


def _many_files(folder: Path, count: int) -> dict[str, bytes]:
    """Files of about 1 MB, each with two findings: writing them is a good part of the run's time."""
    folder.mkdir()
    files = {}
    for n in range(count):
        filler = "".join(f"PAD_{i} = '{chr(97 + (n + i) % 26) * 200_000}'\n" for i in range(5))
        source = HEADER + filler + f"model.load_adapter('out/{n}', adapter_name='lora_A')\n"
        files[f"train_{n:03d}.py"] = source.encode()
        (folder / f"train_{n:03d}.py").write_bytes(files[f"train_{n:03d}.py"])
    return files


def _states(project: Path, before: dict[str, bytes], after: dict[str, bytes]) -> dict[str, str]:
    states = {}
    for name in before:
        now = (project / name).read_bytes()
        states[name] = "old" if now == before[name] else "new" if now == after[name] else "partial"
    return states


@pytest.fixture(scope="module")
def expected_fix(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The files before, and after a complete fix run on a copy."""
    folder = tmp_path_factory.mktemp("atomic") / "expected"
    before = _many_files(folder, 30)
    done = subprocess.run([sys.executable, *FIX_RUN], cwd=folder, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    after = {name: (folder / name).read_bytes() for name in before}
    assert all(after[name] != before[name] for name in before)
    return before, after


def test_sigkill_inside_a_write_leaves_the_file_as_it_was(tmp_path: Path, expected_fix) -> None:
    before, after = expected_fix
    project = tmp_path / "project"
    _many_files(project, len(before))
    _killed_at_write(project, tmp_path, 7, 300)
    states = _states(project, before, after)
    assert list(states.values()) == ["new"] * 6 + ["old"] * (len(before) - 6)  # -j1 fixes in path order
    leftovers = [p.name for p in project.iterdir() if p.name not in before]
    assert len(leftovers) == 1 and leftovers[0].startswith(".train_006.py.")  # the killed write's temporary


def test_sigkill_at_random_moments_of_a_large_fix_run(tmp_path: Path, expected_fix) -> None:
    before, after = expected_fix
    project = tmp_path / "project"
    _many_files(project, len(before))
    chance = random.Random(20240607)
    kills = 0
    for _ in range(4):
        process = subprocess.Popen(
            [sys.executable, *FIX_RUN], cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(chance.uniform(0.4, 1.2))
        if process.poll() is not None:
            break
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        states = _states(project, before, after)
        assert "partial" not in states.values(), [name for name, state in states.items() if state == "partial"]
    assert kills >= 1
    finish = subprocess.run([sys.executable, *FIX_RUN], cwd=project, capture_output=True, text=True, timeout=600)
    assert finish.returncode == 0 and "Traceback" not in finish.stderr, finish.stderr
    assert set(_states(project, before, after).values()) == {"new"}
    # temporary copies of killed writes may stay behind; they are no .py files, so no run reads them
    assert all(not p.name.endswith(".py") for p in project.iterdir() if p.name not in before)


def test_sigkill_inside_a_write_leaves_a_document_as_it_was(tmp_path: Path) -> None:
    """Markdown and reStructuredText files are written as .py files are: old or new, never half."""
    block = "```python\npipe.load_lora_weights('repo/{n}', 'lora')\n```\n"
    names = [f"guide_{n}.md" for n in range(3)]
    before = {name: (f"# Guide {n}\n\nProse.\n\n" + block.format(n=n)).encode() for n, name in enumerate(names)}
    after = {name: raw.replace(b"'lora'", b"'adapter_lora'") for name, raw in before.items()}
    project = tmp_path / "project"
    project.mkdir()
    for name, raw in before.items():
        (project / name).write_bytes(raw)
    _killed_at_write(project, tmp_path, 2, 120, "--include-docs")
    assert list(_states(project, before, after).values()) == ["new", "old", "old"]
    leftovers = [p.name for p in project.iterdir() if p.name not in before]
    assert len(leftovers) == 1 and leftovers[0].startswith(".guide_1.md.")
