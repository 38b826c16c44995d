"""The LibCST fixer: before/after pairs compared byte for byte, idempotence, encodings and line endings,
the replacement machinery, errors, and the `python -m libcst.tool codemod` path."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import pytest
import yaml

from flake8_peft_names import fixer
from flake8_peft_names.fixer import FixError, fix_source
from flake8_peft_names.rule import Applicability, Finding, Fix, FixIntent, RenameAdapter, ReplaceExpression
from tests.inprocess import engine_findings

ROOT = Path(__file__).parent.parent
PAIRS = Path(__file__).parent / "fixtures_fix"
INPUTS = sorted(PAIRS.glob("*.in.py"))
SAFE = frozenset({Applicability.SAFE})
UNSAFE = frozenset({Applicability.SAFE, Applicability.UNSAFE})


def check(source: bytes) -> list[Finding]:
    """The findings of `source`, as the CLI gets them: `ast` on the bytes, lines of the decoded text."""
    return engine_findings(source)


def fix(source: bytes, applicable: frozenset[Applicability] = UNSAFE) -> bytes:
    return fix_source(source, check(source), applicable)


def out_path(path: Path, suffix: str = ".out.py") -> Path:
    return path.with_name(path.name[: -len(".in.py")] + suffix)


def fixed_codes(findings: Sequence[Finding], applicable: frozenset[Applicability]) -> set[str]:
    return {f.code for f in findings if f.fix is not None and f.fix.applicability in applicable}


# ---------------------------------------------------------------------------------------------------
# Before/after pairs: NAME.in.py -> NAME.out.py with unsafe fixes; NAME.safe.out.py (else NAME.in.py)
# with safe fixes only.


@pytest.mark.parametrize("path", INPUTS, ids=[p.name[: -len(".in.py")] for p in INPUTS])
def test_pair_with_unsafe_fixes(path: Path) -> None:
    assert fix(path.read_bytes(), UNSAFE) == out_path(path).read_bytes()


@pytest.mark.parametrize("path", INPUTS, ids=[p.name[: -len(".in.py")] for p in INPUTS])
def test_pair_with_safe_fixes_only(path: Path) -> None:
    expected = out_path(path, ".safe.out.py")
    source = path.read_bytes()
    assert fix(source, SAFE) == (expected.read_bytes() if expected.exists() else source)


@pytest.mark.parametrize("path", INPUTS, ids=[p.name[: -len(".in.py")] for p in INPUTS])
def test_pair_is_idempotent_and_leaves_no_finding_of_a_fixed_rule(path: Path) -> None:
    source = path.read_bytes()
    fixed = fix(source)
    remaining = check(fixed)
    assert not fixed_codes(check(source), UNSAFE) & {f.code for f in remaining}, remaining
    assert fix_source(fixed, remaining, UNSAFE) == fixed


def test_pairs_cover_renames_and_no_fix() -> None:
    changed = {p.name for p in INPUTS if p.read_bytes() != out_path(p).read_bytes()}
    unchanged = {p.name for p in INPUTS} - changed
    assert changed and unchanged


# ---------------------------------------------------------------------------------------------------
# Bytes the fix does not touch


def test_crlf_line_endings_are_kept() -> None:
    source = (PAIRS / "rename_literals.in.py").read_bytes().replace(b"\n", b"\r\n")
    expected = (PAIRS / "rename_literals.out.py").read_bytes().replace(b"\n", b"\r\n")
    assert fix(source) == expected


def test_latin1_coding_cookie_with_non_ascii_text() -> None:
    # `é` before the literal on the same line: columns are characters, and the file stays latin-1.
    text = (
        "# -*- coding: latin-1 -*-\n"
        "from peft import get_peft_model\n"
        "\n"
        'model = get_peft_model(base_model, config, adapter_name="lora")  # café\n'
        'greeting = "été"; model.set_adapter("lora")\n'
    )
    source = text.encode("latin-1")
    fixed = fix(source)
    assert fixed == text.replace('"lora"', '"adapter_lora"').encode("latin-1")
    assert b"\xe9t\xe9" in fixed
    assert fix(fixed) == fixed


def test_utf8_bom_is_kept() -> None:
    text = (
        'NAME = "lora"  # the literal is on line 1, after the BOM\n'
        "from peft import get_peft_model\n"
        "\n"
        "model = get_peft_model(base_model, config, adapter_name=NAME)  # ünïcode\n"
    )
    source = b"\xef\xbb\xbf" + text.encode("utf-8")
    assert fix(source) == b"\xef\xbb\xbf" + text.replace('"lora"', '"adapter_lora"').encode("utf-8")


def test_no_trailing_newline_and_tabs() -> None:
    source = b'from peft import get_peft_model\nif True:\n\tmodel = get_peft_model(m, c, adapter_name="lora")'
    assert fix(source) == source.replace(b'"lora"', b'"adapter_lora"')


def test_commented_concatenation_is_left_alone() -> None:
    """A comment between the parts of a literal would be lost: the file stays as it is."""
    source = (
        b"from peft import get_peft_model\n"
        b"model = get_peft_model(\n"
        b"    base_model,\n"
        b"    config,\n"
        b'    adapter_name="lo"  # a comment inside the literal\n'
        b'    "ra",\n'
        b")\n"
    )
    findings = check(source)
    assert any(f.fix is not None for f in findings)
    assert fix(source) == source


# ---------------------------------------------------------------------------------------------------
# Positions by run of top-level statements (fixer._runs_holding): LibCST's positions are computed only for
# the statements that hold an edit, taken alone; they must be the whole module's, shifted by the lines before.

POSITION_FOLDERS = ("tests/fixtures", "tests/fixtures_fix", "tests/fix_scripts", "examples")
POSITION_FILES = sorted(p for folder in POSITION_FOLDERS for p in (ROOT / folder).rglob("*.py"))
POSITION_CASES = {
    "header comments, decorators, a docstring": (
        b'#!/usr/bin/env python\n# header\n\n"""doc\nstring"""\n\n\n@dec(\n  "a")\ndef f(x="b"):\n    return {"c": x}\n'
    ),
    "multi-line strings and continuations": b'x = """one\ntwo"""; y = f(\n  "z",\n)\nw = 1 + \\\n    g("v")\n',
    "no trailing newline": b'import os\nif os:\n\tz = h("q")',
    "a form feed and comments between statements": (
        b'a = "1"\n\x0c\n# c\n  # indented comment\nb = ["2",\n  # inner\n  "3"]\n'
    ),
}


class _ExpressionSpans(fixer.cst.CSTVisitor):
    METADATA_DEPENDENCIES = (fixer.PositionProvider,)

    def __init__(self, lines_before: int = 0) -> None:
        super().__init__()
        self.lines_before = lines_before
        self.spans: list[tuple[str, int, int, int, int]] = []

    def on_visit(self, node: fixer.cst.CSTNode) -> bool:
        if isinstance(node, fixer.cst.BaseExpression):
            position, before = self.get_metadata(fixer.PositionProvider, node), self.lines_before
            start, end = position.start, position.end
            self.spans.append((type(node).__name__, start.line + before, start.column, end.line + before, end.column))
        return True


def _spans_whole_and_by_run(module: fixer.cst.Module) -> tuple[list, list]:
    whole = _ExpressionSpans()
    fixer.MetadataWrapper(module).visit(whole)
    every_line = set(range(1, module.code.count("\n") + module.code.count("\r") + 2))
    by_run: list = []
    for first, end, lines_before in fixer._runs_holding(module, every_line):
        alone = _ExpressionSpans(lines_before)
        fixer.MetadataWrapper(module.with_changes(header=(), body=module.body[first:end], footer=())).visit(alone)
        by_run.extend(alone.spans)
    return whole.spans, by_run


@pytest.mark.parametrize("path", POSITION_FILES, ids=[str(p.relative_to(ROOT)) for p in POSITION_FILES])
@pytest.mark.parametrize(
    "newline",
    [b"\n", pytest.param(b"\r\n", marks=pytest.mark.prepush), pytest.param(b"\r", marks=pytest.mark.prepush)],
    ids=["lf", "crlf", "cr"],
)
def test_positions_by_run_are_the_modules(path: Path, newline: bytes) -> None:
    source = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", newline)
    whole, by_run = _spans_whole_and_by_run(fixer.cst.parse_module(source))
    assert whole and by_run == whole


@pytest.mark.parametrize("source", POSITION_CASES.values(), ids=list(POSITION_CASES))
def test_positions_by_run_in_unusual_layouts(source: bytes) -> None:
    whole, by_run = _spans_whole_and_by_run(fixer.cst.parse_module(source))
    assert whole and by_run == whole


def test_a_statement_that_does_not_end_its_line_joins_the_next_run() -> None:
    """No parsed file has one, but a codemod's tree may: the statement after it starts mid-line."""
    module = fixer.cst.parse_module(b'x = "a"\ny = "b"\nz = "c"\n')
    no_newline = fixer.cst.TrailingWhitespace(newline=fixer.cst.Newline(""))
    joined = module.body[0].with_changes(trailing_whitespace=no_newline)
    module = module.with_changes(body=[joined, *module.body[1:]])
    assert fixer._runs_holding(module, {1}) == [(0, 2, 0)]
    assert fixer._runs_holding(module, {2}) == [(2, 3, 1)]
    whole, by_run = _spans_whole_and_by_run(module)
    assert by_run == whole
    y_span = (1, 11, 1, 14)  # `"b"`, now on line 1 after `x = "a"`
    edit = Finding("PFT999", *y_span, "m", Fix(Applicability.SAFE, ReplaceExpression('"B"'), "d"))
    assert fixer.apply_fixes(module, [edit], SAFE).code == 'x = "a"y = "B"\nz = "c"\n'


# ---------------------------------------------------------------------------------------------------
# What is applied, and what is not


def finding_at(
    source: bytes, segment: str, intent: FixIntent, applicability: Applicability = Applicability.UNSAFE, nth: int = 0
) -> Finding:
    """A hand-built finding at the `nth` expression whose source text is `segment` (ASCII sources)."""
    text = source.decode("utf-8")
    nodes = [
        n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.expr) and ast.get_source_segment(text, n) == segment
    ]
    nodes.sort(key=lambda n: (n.lineno, n.col_offset))
    node = nodes[nth]
    return finding_of(node, Fix(applicability, intent, "test fix"))


def finding_of(node: ast.expr, fix_: Fix, code: str = "PFT999") -> Finding:
    end_line, end_col = node.end_lineno or node.lineno, node.end_col_offset or node.col_offset
    return Finding(code, node.lineno, node.col_offset, end_line, end_col, "test", fix_)


RENAME = RenameAdapter("lora", "adapter_lora")


@pytest.mark.parametrize("applicability", [Applicability.DISPLAY_ONLY, Applicability.NONE, Applicability.UNSAFE])
def test_only_safe_applicable_applies_no_other_tier(applicability: Applicability, monkeypatch) -> None:
    source = b'model.set_adapter("lora")\n'
    finding = finding_at(source, '"lora"', RENAME, applicability)
    monkeypatch.setattr(fixer.cst, "parse_module", _no_parse)  # nothing applies: LibCST must not parse
    assert fix_source(source, [finding], SAFE) == source


@pytest.mark.parametrize("applicability", [Applicability.DISPLAY_ONLY, Applicability.NONE])
def test_display_only_and_none_are_never_applied(applicability: Applicability) -> None:
    source = b'model.set_adapter("lora")\n'
    finding = finding_at(source, '"lora"', RENAME, applicability)
    assert fix_source(source, [finding], frozenset(Applicability)) == source


def test_safe_fix_is_applied_with_safe_only() -> None:
    source = b'model.set_adapter("lora")\n'
    finding = finding_at(source, '"lora"', RENAME, Applicability.SAFE)
    assert fix_source(source, [finding], SAFE) == b'model.set_adapter("adapter_lora")\n'


def test_no_findings_returns_the_same_bytes_without_parsing(monkeypatch) -> None:
    monkeypatch.setattr(fixer.cst, "parse_module", _no_parse)
    source = b"this is not python ((("
    assert fix_source(source, [], UNSAFE) is source


def _no_parse(*args, **kwargs):
    raise AssertionError("LibCST parsed a file without an applicable fix")


def test_rename_leaves_names_fstrings_bytes_and_other_values_alone() -> None:
    source = b'NAME = "lora"\nmodel.set_adapter(NAME)\nmodel.set_adapter(f"lora")\nx = b"lora"\ny = "lo"\n'
    findings = [
        finding_at(source, "NAME", RENAME, nth=1),
        finding_at(source, 'f"lora"', RENAME),
        finding_at(source, 'b"lora"', RENAME),
        finding_at(source, '"lo"', RENAME),  # stale: the literal no longer holds the old name
    ]
    assert fix_source(source, findings, UNSAFE) == source
    findings.append(finding_at(source, '"lora"', RENAME))
    assert fix_source(source, findings, UNSAFE) == source.replace(b'= "lora"', b'= "adapter_lora"')


def test_position_must_match_exactly() -> None:
    source = b'model.set_adapter("lora")\n'
    good = finding_at(source, '"lora"', RENAME)
    shifted = Finding(good.code, good.line, good.col + 1, good.end_line, good.end_col, good.message, good.fix)
    assert fix_source(source, [shifted], UNSAFE) == source


@pytest.mark.parametrize(
    "literal, new, expected",
    [
        ("'lora'", "adapter_lora", "'adapter_lora'"),
        ('R"lora"', "adapter_lora", 'R"adapter_lora"'),
        ("r'lora'", "it's", "'it\\'s'"),  # a raw string cannot hold its own quote: the `r` goes
        ("'lora'", "it's", "'it\\'s'"),
        ('"""lora"""', 'a"b', '"""a\\"b"""'),
        ("U'lora'", "a\\b", "U'a\\\\b'"),
        ("'lora'", "é", "'é'"),
    ],
)
def test_new_literal_keeps_quotes_and_prefix(literal: str, new: str, expected: str) -> None:
    source = f"model.set_adapter({literal})\n".encode()
    finding = finding_at(source, literal, RenameAdapter("lora", new))
    fixed = fix_source(source, [finding], UNSAFE)
    assert fixed == f"model.set_adapter({expected})\n".encode()
    assert ast.literal_eval(expected) == new


# ---------------------------------------------------------------------------------------------------
# ReplaceExpression, with hand-built findings (the rules that emit them are tested with their own pairs)

FILTER = '{k: v for k, v in model.state_dict().items() if "lora" in k}'
GET = ReplaceExpression("get_peft_model_state_dict(model, adapter_name='lora')", ("get_peft_model_state_dict",))


def test_replacement_merges_the_import_into_an_existing_peft_import() -> None:
    source = (
        b'"""Save the adapter."""\n'
        b"import torch\n"
        b"from peft import (\n"
        b"    LoraConfig,  # keep me\n"
        b"    get_peft_model,\n"
        b")\n"
        b"\n"
        b"state = " + FILTER.encode() + b"  # filter\n"
        b'torch.save(state, "adapter.bin")\n'
    )
    fixed = fix_source(source, [finding_at(source, FILTER, GET)], UNSAFE)
    assert fixed == (
        b'"""Save the adapter."""\n'
        b"import torch\n"
        b"from peft import (\n"
        b"    LoraConfig,  # keep me\n"
        b"    get_peft_model,\n"
        b"    get_peft_model_state_dict,\n"
        b")\n"
        b"\n"
        b"state = get_peft_model_state_dict(model, adapter_name='lora')  # filter\n"
        b'torch.save(state, "adapter.bin")\n'
    )


def test_replacement_adds_the_import_when_there_is_none() -> None:
    source = b'"""Doc."""\nimport torch\n\nstate = ' + FILTER.encode() + b"\n"
    fixed = fix_source(source, [finding_at(source, FILTER, GET)], UNSAFE)
    assert fixed == (
        b'"""Doc."""\nimport torch\nfrom peft import get_peft_model_state_dict\n\n'
        b"state = get_peft_model_state_dict(model, adapter_name='lora')\n"
    )


@pytest.mark.parametrize(
    "imports",
    [
        b"from peft import get_peft_model_state_dict\n",
        b"from peft.utils import get_peft_model_state_dict\n",
        b"from peft import *\n",
        b"import torch\nfrom peft import get_peft_model_state_dict  # after other code\n",
    ],
)
def test_replacement_never_duplicates_an_import(imports: bytes) -> None:
    source = b"import os\nos.chdir('.')\n" + imports + b"state = " + FILTER.encode() + b"\n"
    fixed = fix_source(source, [finding_at(source, FILTER, GET)], UNSAFE)
    assert fixed == source.replace(FILTER.encode(), b"get_peft_model_state_dict(model, adapter_name='lora')")


def test_replacement_of_a_multiline_call_with_crlf() -> None:
    call = "model.load_state_dict(\r\n    sd,\r\n    strict=False,\r\n)"
    source = f"from peft import LoraConfig\r\n\r\nresult = {call}  # load\r\nprint(result)\r\n".encode()
    text = source.decode()
    node = next(n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call) and n.keywords)
    intent = ReplaceExpression("set_peft_model_state_dict(model, sd)", ("set_peft_model_state_dict",))
    finding = finding_of(node, Fix(Applicability.UNSAFE, intent, "d"), "PFT203")
    fixed = fix_source(source, [finding], UNSAFE)
    assert fixed == (
        b"from peft import LoraConfig, set_peft_model_state_dict\r\n\r\n"
        b"result = set_peft_model_state_dict(model, sd)  # load\r\nprint(result)\r\n"
    )
    assert fix_source(fixed, [], UNSAFE) == fixed


def test_replacement_keeps_parentheses_and_adds_them_where_precedence_needs() -> None:
    source = b"a = (x)\nb = y * 2\n"
    findings = [
        finding_at(source, "x", ReplaceExpression("f(x)")),
        finding_at(source, "y", ReplaceExpression("p + q")),
    ]
    assert fix_source(source, findings, UNSAFE) == b"a = (f(x))\nb = (p + q) * 2\n"


def test_replacement_applies_the_renames_of_the_same_run() -> None:
    """The replacement's literal would be found and renamed by a second run otherwise."""
    source = b'model.set_adapter("lora")\nstate = ' + FILTER.encode() + b"\n"
    findings = [finding_at(source, '"lora"', RENAME), finding_at(source, FILTER, GET)]
    fixed = fix_source(source, findings, UNSAFE)
    assert fixed == (
        b"from peft import get_peft_model_state_dict\n\n"
        b'model.set_adapter("adapter_lora")\n'
        b"state = get_peft_model_state_dict(model, adapter_name='adapter_lora')\n"
    )


def test_replacement_not_applied_adds_no_import() -> None:
    source = b"state = " + FILTER.encode() + b"\n"
    assert fix_source(source, [finding_at(source, FILTER, GET, Applicability.DISPLAY_ONLY)], UNSAFE) == source


# ---------------------------------------------------------------------------------------------------
# Errors: one line each, and the file is never half-fixed


def _assert_one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert message and "\n" not in message
    return message


def test_file_libcst_cannot_parse_but_python_can() -> None:
    source = b'x = () if 0 else(lambda:())\nmodel.set_adapter("lora")\n'
    ast.parse(source)
    with pytest.raises(FixError) as error:
        fix_source(source, [finding_at(source, '"lora"', RENAME)], UNSAFE)
    assert "LibCST cannot parse" in _assert_one_line(error)


def test_file_python_cannot_parse_raises_with_the_line() -> None:
    source = b'model.set_adapter("lora")\nif x\n'
    finding = Finding("PFT102", 1, 18, 1, 24, "m", Fix(Applicability.UNSAFE, RENAME, "d"))
    with pytest.raises(FixError) as error:
        fix_source(source, [finding], UNSAFE)
    assert "LibCST cannot parse" in _assert_one_line(error)


def test_fix_that_would_not_parse_raises() -> None:
    source = b"x = 1\n"
    with pytest.raises(FixError) as error:
        fix_source(source, [finding_at(source, "x", ReplaceExpression("f()"))], UNSAFE)  # `f() = 1`
    assert "would not parse" in _assert_one_line(error)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="needs a Python older than LibCST's grammar")
def test_file_only_libcst_can_parse_raises() -> None:
    """LibCST reads `type X = ...` (Python 3.12); an older Python cannot: the fixed file would not parse."""
    source = b'type X = int\nmodel.set_adapter("lora")\n'
    finding = Finding("PFT102", 2, 18, 2, 24, "m", Fix(Applicability.UNSAFE, RENAME, "d"))
    with pytest.raises(FixError) as error:
        fix_source(source, [finding], UNSAFE)
    assert "would not parse" in _assert_one_line(error)


def test_replacement_that_is_no_expression_raises() -> None:
    source = b"state = " + FILTER.encode() + b"\n"
    with pytest.raises(FixError) as error:
        fix_source(source, [finding_at(source, FILTER, ReplaceExpression("import os"))], UNSAFE)
    assert "not a Python expression" in _assert_one_line(error)


def test_fixed_text_the_encoding_cannot_hold_raises() -> None:
    source = '# -*- coding: latin-1 -*-\nmodel.set_adapter("lora")\n'.encode("latin-1")
    finding = Finding("PFT102", 2, 18, 2, 24, "m", Fix(Applicability.UNSAFE, RenameAdapter("lora", "ℓora"), "d"))
    with pytest.raises(FixError) as error:
        fix_source(source, [finding], UNSAFE)
    assert "encoding" in _assert_one_line(error)


# ---------------------------------------------------------------------------------------------------
# The codemod, through the shared code path and through `python -m libcst.tool codemod`


def test_codemod_in_process_matches_fix_source() -> None:
    from libcst.codemod import CodemodContext, TransformSuccess, transform_module

    from flake8_peft_names.codemod import FixPeftNames

    for path in INPUTS:
        source = path.read_bytes()
        result = transform_module(FixPeftNames(CodemodContext(), unsafe_fixes=True), source.decode())
        assert isinstance(result, TransformSuccess)
        assert result.code.encode() == out_path(path).read_bytes()


def _libcst_tool(project: Path, *args: str, returncode: int = 0) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, "-m", "libcst.tool", *args]
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == returncode, result.stderr
    return result


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A project set up as LibCST tells users: `libcst.tool initialize`, then our module listed."""
    _libcst_tool(tmp_path, "initialize", ".")
    config_path = tmp_path / ".libcst.codemod.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["modules"].append("flake8_peft_names")  # the formatter stays as initialized: --no-format keeps it unrun
    config_path.write_text(yaml.safe_dump(config))
    (tmp_path / "src").mkdir()
    for path in INPUTS:
        (tmp_path / "src" / path.name.replace(".in.py", ".py")).write_bytes(path.read_bytes())
    crlf = (PAIRS / "rename_literals.in.py").read_bytes().replace(b"\n", b"\r\n")
    (tmp_path / "src" / "crlf.py").write_bytes(crlf)
    return tmp_path


def _expected(name: str, unsafe: bool) -> bytes:
    if name == "crlf.py":
        pair = PAIRS / ("rename_literals.out.py" if unsafe else "rename_literals.in.py")
        return pair.read_bytes().replace(b"\n", b"\r\n")
    return (PAIRS / name.replace(".py", ".out.py" if unsafe else ".in.py")).read_bytes()


@pytest.mark.prepush
@pytest.mark.parametrize("command", [["codemod.FixPeftNames"], ["-x", "flake8_peft_names.codemod.FixPeftNames"]])
def test_libcst_tool_codemod(project: Path, command: list[str]) -> None:
    files = sorted((project / "src").iterdir())
    _libcst_tool(project, "codemod", "--no-format", "--hide-progress", *command, "src")
    for path in files:
        assert path.read_bytes() == _expected(path.name, unsafe=False), path.name
    result = _libcst_tool(project, "codemod", "--no-format", "--hide-progress", *command, "--unsafe-fixes", "src")
    assert "Failed to codemod 0 files" in result.stderr
    for path in files:
        assert path.read_bytes() == _expected(path.name, unsafe=True), path.name
    _libcst_tool(project, "codemod", "--no-format", "--hide-progress", *command, "--unsafe-fixes", "src")
    for path in files:
        assert path.read_bytes() == _expected(path.name, unsafe=True), path.name


@pytest.mark.prepush
def test_libcst_tool_codemod_reports_what_libcst_cannot_parse_skips_what_it_cannot_reproduce(project: Path) -> None:
    """One run over src/: a file LibCST cannot parse is reported and left alone, the others are fixed.
    LibCST drops a leading form feed and a last line's lone '\\r'; libcst.tool writes back whatever
    differs, so without the guard even a file with nothing to fix would change: those are skipped."""
    bad = project / "src" / "bad.py"
    bad.write_bytes((PAIRS / "rename_literals.in.py").read_bytes() + b"x = () if 0 else(lambda:())\n")
    untouched = {
        "bad.py": bad.read_bytes(),
        "form_feed_fixable.py": b"\x0cfrom peft import get_peft_model\nm = get_peft_model(b, c, adapter_name='lora')\n",
        "form_feed_clean.py": b"\x0cimport os\nx = 1\n",
        "lone_cr_clean.py": b"from peft import PeftModel\nx = 1\n\r",
    }
    for name, raw in untouched.items():
        (project / "src" / name).write_bytes(raw)
    command = ["codemod", "--no-format", "--hide-progress", "codemod.FixPeftNames", "--unsafe-fixes", "src"]
    result = _libcst_tool(project, *command, returncode=1)
    assert "Failed to codemod 1 files" in result.stderr and "Skipped 3 files" in result.stderr, result.stderr
    for name, raw in untouched.items():
        assert (project / "src" / name).read_bytes() == raw, name
    assert (project / "src" / "rename_literals.py").read_bytes() == (PAIRS / "rename_literals.out.py").read_bytes()


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="needs a Python older than LibCST's grammar")
def test_codemod_skips_a_file_python_cannot_parse() -> None:
    from libcst.codemod import CodemodContext, TransformSkip, transform_module

    from flake8_peft_names.codemod import FixPeftNames

    code = 'type X = int\nmodel.set_adapter("lora")\n'  # Python 3.12 syntax: LibCST reads it on any Python
    result = transform_module(FixPeftNames(CodemodContext(), unsafe_fixes=True), code)
    assert isinstance(result, TransformSkip)
    assert "Python cannot parse" in result.skip_description


def test_codemod_honours_noqa_and_the_flake8_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`# noqa: PFTxxx` and the [flake8] selection prevent the codemod's fix as they prevent the report."""
    import libcst as cst
    from libcst.codemod import CodemodContext

    from flake8_peft_names.codemod import FixPeftNames

    code = (
        "from peft import get_peft_model\n"
        'a = get_peft_model(m, c, adapter_name="lora")  # noqa: PFT102\n'
        'b = get_peft_model(m, c, adapter_name="train")\n'
        'c = get_peft_model(m, c, adapter_name="q")\n'
    )
    (tmp_path / "setup.cfg").write_text("[flake8]\nextend-ignore = PFT105\n")
    monkeypatch.chdir(tmp_path)
    command = FixPeftNames(CodemodContext(filename="train.py"), unsafe_fixes=True)
    fixed = command.transform_module(cst.parse_module(code)).code
    assert fixed == code.replace('"train"', '"adapter_train"')
