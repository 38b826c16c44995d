"""The language server's pieces, in-process: edits, `# noqa` placement, columns, the cache, and that the
plugin never imports the server's dependencies."""
from __future__ import annotations

import ast
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_peft_names.config import load_config
from flake8_peft_names.selection import reported
from flake8_peft_names.server.analysis import check_text, config_for
from flake8_peft_names.server.configs import ConfigStore
from flake8_peft_names.server.documents import DocumentStore
from flake8_peft_names.server.noqa_edit import noqa_edit
from flake8_peft_names.server.positions import Edit, edits_between, point
from flake8_peft_names.source_files import SourceFile, physical_lines

ROOT = Path(__file__).resolve().parent.parent


def applied(text: str, edits: list[Edit]) -> str:
    """Apply edits whose columns are characters (the texts here are ASCII)."""
    lines = physical_lines(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, character: int) -> int:
        return starts[line] + character if line < len(lines) else len(text)

    for edit in sorted(edits, key=lambda e: (e.start.line, e.start.character), reverse=True):
        start, end = offset(edit.start.line, edit.start.character), offset(edit.end.line, edit.end.character)
        text = text[:start] + edit.new_text + text[end:]
    return text


@pytest.mark.parametrize(
    "old, new",
    [
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("a\nb\nc", "a\nb\nC"),
        ("a\r\nb\r\n", "x\r\na\r\nb\r\ny"),
        ("", "import peft\n"),
        ("one\ntwo\n", ""),
        ("a\rb\rc\r", "a\rc\r"),
    ],
)
def test_edits_between_give_exactly_the_new_text(old: str, new: str) -> None:
    assert applied(old, edits_between(old, new, "utf-16")) == new


def test_edits_between_lines_compared_one_to_one() -> None:
    old, new = "a\nb\nc\nd\ne\nf\n", "a\nB\nC\nd\ne\nF\n"
    edits = edits_between(old, new, "utf-16")
    assert [(e.start.line, e.end.line, e.new_text) for e in edits] == [(1, 3, "B\nC\n"), (5, 6, "F\n")]
    assert applied(old, edits) == new


def test_edits_between_random_texts() -> None:
    rng = random.Random(18)
    for _ in range(2000):
        old_lines = [rng.choice("abc") + rng.choice(["\n", "\r\n", "\r", ""]) for _ in range(rng.randrange(8))]
        new_lines = list(old_lines)
        for _ in range(rng.randrange(4)):
            where = rng.randrange(len(new_lines) + 1)
            change = rng.choice(["insert", "delete", "replace"])
            if change == "insert" or not new_lines[where:]:
                new_lines.insert(where, rng.choice("abcx") + rng.choice(["\n", "\r\n"]))
            elif change == "delete":
                del new_lines[where]
            else:
                new_lines[where] = rng.choice("xyz") + "\n"
        old, new = "".join(old_lines), "".join(new_lines)
        assert applied(old, edits_between(old, new, "utf-16")) == new, (old, new)


def test_columns_in_each_position_encoding() -> None:
    lines = ['x = ("🤗", "é", "to")\n']
    col = lines[0].index('"to"')  # characters: 15
    assert point(lines, 1, col, "utf-32").character == 15
    assert point(lines, 1, col, "utf-16").character == 16  # the emoji is two UTF-16 code units
    assert point(lines, 1, col, "utf-8").character == 19  # four bytes for the emoji, two for é


BAD_LINE = 'model.load_adapter("x", adapter_name="to")'
HEAD = "from peft import PeftModel\nmodel = PeftModel.from_pretrained(base, 'p')\n"


@pytest.mark.parametrize(
    "body, expected",
    [
        (f"{BAD_LINE}\n", f"{BAD_LINE}  # noqa: PFT101\n"),
        (f"{BAD_LINE}  # noqa:E501\n", f"{BAD_LINE}  # noqa:E501, PFT101\n"),
        (f"{BAD_LINE}  # NOQA: E501,W291 keep this\n", f"{BAD_LINE}  # NOQA: E501,W291, PFT101 keep this\n"),
        (f"{BAD_LINE}  # a comment\n", f"{BAD_LINE}  # a comment  # noqa: PFT101\n"),
        (
            'model.load_adapter(\n    "x",\n    adapter_name="to",\n)\n',
            'model.load_adapter(\n    "x",\n    adapter_name="to",  # noqa: PFT101\n)\n',
        ),
        (
            'model.load_adapter("x", adapter_name="to", note="""a\nb""")\n',
            'model.load_adapter("x", adapter_name="to", note="""a\nb""")  # noqa: PFT101\n',
        ),
        (f"{BAD_LINE}", f"{BAD_LINE}  # noqa: PFT101"),
    ],
)
def test_noqa_edit_silences_the_finding(body: str, expected: str) -> None:
    text = HEAD + body
    config = config_for(None)
    (finding,) = check_text(text, "t.py", config).findings
    edit = noqa_edit(physical_lines(text), finding.line, finding.code, "utf-16")
    assert edit is not None
    fixed = applied(text, [edit])
    assert fixed == HEAD + expected
    assert check_text(fixed, "t.py", config).findings == []


def test_no_noqa_edit_under_a_bare_noqa() -> None:
    lines = physical_lines(HEAD + f"{BAD_LINE}  # noqa\n")
    assert noqa_edit(lines, 3, "PFT101", "utf-16") is None


@pytest.mark.parametrize("example", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
@pytest.mark.parametrize("noqa", ["", "  # noqa: E501"])
def test_the_check_reports_what_the_cli_reports(example: Path, noqa: str) -> None:
    text = example.read_text()
    if noqa:  # a `# noqa` for another code on every line: the tokenizer pass of `reported`
        text = "".join(line.rstrip("\n") + noqa + "\n" for line in text.splitlines())
    config = load_config({}, None, isolated=True)
    expected = reported(SourceFile(b"", text, physical_lines(text), ast.parse(text)), str(example), config)
    assert check_text(text, str(example), config).findings == expected


def test_unchanged_buffers_are_not_checked_again(tmp_path: Path) -> None:
    config = tmp_path / "setup.cfg"
    config.write_text("[flake8]\nextend-ignore = PFT101\n")
    path = tmp_path / "train.py"
    text = HEAD + f"{BAD_LINE}\n"
    store = DocumentStore(ConfigStore())
    first = store.analyse(path.as_uri(), text, path)
    assert first.checked.findings == [] and store.checks == 1
    assert store.analyse(path.as_uri(), text, path) is first and store.checks == 1
    config.write_text("[flake8]\nmax-line-length = 100\n")
    stat = config.stat()
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a new mtime: the config is read again
    again = store.analyse(path.as_uri(), text, path)
    assert store.checks == 2 and [f.code for f in again.checked.findings] == ["PFT101"]
    nearer = tmp_path / "sub"
    nearer.mkdir()
    (nearer / "tox.ini").write_text("[flake8]\nselect = E\n")
    inner = nearer / "train.py"
    assert store.analyse(inner.as_uri(), text, inner).checked.findings == []
    store.analyse(path.as_uri(), text + "\n", path)
    assert store.checks == 4


def test_a_bad_config_falls_back_to_the_defaults_and_says_so(tmp_path: Path) -> None:
    (tmp_path / ".flake8").write_text("[flake8]\nselect = NOT-A-CODE\n")
    loaded = ConfigStore().for_folder(tmp_path)
    assert loaded.error is not None and "NOT-A-CODE" in loaded.error and "default" in loaded.error


@pytest.mark.prepush  # starts processes (tiers: tests/conftest.py)
def test_the_plugin_and_the_cli_do_not_import_the_server() -> None:
    code = (
        "import sys, flake8_peft_names.plugin, flake8_peft_names.cli; "
        "sys.exit(any(m.split('.')[0] in ('pygls', 'lsprotocol') or m.startswith('flake8_peft_names.server') "
        "for m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    assert subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT).returncode == 0


@pytest.mark.full  # a benchmark script, as tests/test_benchmark_script.py
@pytest.mark.parametrize(
    "source, resolved",
    [(["--lines", "200"], True), (["--file", "tests/fixtures/state_dicts/negative_filters.py"], False)],
    ids=["generated", "file-without-fixes"],
)
def test_the_latency_benchmark_runs(source: list[str], resolved: bool) -> None:
    """benchmarks/server_latency.py works on a short script and on a given file (whose (c) and (d) rows need
    a finding with a fix); its timings are printed, never asserted."""
    command = [sys.executable, str(ROOT / "benchmarks" / "server_latency.py"), "--runs", "2", *source]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "(a) diagnostics of a changed buffer" in result.stdout
    assert "(e) didChange -> publishDiagnostics" in result.stdout
    assert ("(d) codeAction/resolve" in result.stdout) is resolved


def test_the_cycle_collector_runs_again_after_a_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check pauses Python's cycle collector (its allocation bursts would scan every object the server
    holds) and turns it back on afterwards, also when the engine fails."""
    import gc

    from flake8_peft_names.server import documents
    from flake8_peft_names.server.analysis import EngineError

    store = DocumentStore(ConfigStore())
    path = tmp_path / "train.py"
    seen: list[bool] = []

    def check(text: str, shown: str, config: object, spent: object = None, parser: object = None) -> object:
        seen.append(gc.isenabled())
        raise EngineError("a bug")

    monkeypatch.setattr(documents, "check_text", check)
    assert gc.isenabled()
    with pytest.raises(EngineError):
        store.analyse(path.as_uri(), "import peft\n", path)
    assert seen == [False] and gc.isenabled()


def test_rule_pages_are_written_once_into_the_cache_as_docs_renders_them(tmp_path: Path) -> None:
    from flake8_peft_names.docs import rule_page
    from flake8_peft_names.rules import RULES_BY_CODE
    from flake8_peft_names.server.rule_links import RuleLinks

    links = RuleLinks(tmp_path)
    href = links.href("PFT102")
    assert href is not None and href.startswith("file://")
    page = links.folder() / "PFT102.md"
    assert href == page.as_uri() and page.read_text(encoding="utf-8") == rule_page(RULES_BY_CODE["PFT102"])
    page.write_text("kept")  # there already: not written again
    assert RuleLinks(tmp_path).href("PFT102") == href and page.read_text() == "kept"
    assert [p.name for p in page.parent.iterdir()] == ["PFT102.md"]  # no temporary file left
    assert links.href("PFT999") is None  # no such rule: no page, no link
    assert links.href("PFT102", "https://x.org/{code}.md") == "https://x.org/PFT102.md"


def test_no_rule_page_link_when_the_cache_cannot_be_written(tmp_path: Path) -> None:
    from flake8_peft_names.server.rule_links import RuleLinks

    (tmp_path / "a-file").write_text("")
    assert RuleLinks(tmp_path / "a-file").href("PFT102") is None


def test_rule_docs_url_is_read_from_the_config_and_needs_the_code(tmp_path: Path) -> None:
    from flake8_peft_names.config import ConfigError

    config = tmp_path / "setup.cfg"
    config.write_text("[flake8]\nrule-docs-url = https://example.org/rules/{code}.md\n")
    assert load_config({}, str(config)).rule_docs_url == "https://example.org/rules/{code}.md"
    assert load_config({}, None, isolated=True).rule_docs_url is None
    config.write_text("[flake8]\nrule-docs-url = https://example.org/rules/\n")
    with pytest.raises(ConfigError, match="rule-docs-url"):
        load_config({}, str(config))


def test_the_parse_tree_is_kept_until_the_server_has_answered(tmp_path: Path) -> None:
    import gc

    store = DocumentStore(ConfigStore())
    path = tmp_path / "train.py"
    text = 'from peft import get_peft_model\nm = get_peft_model(b, c, adapter_name="to")\n'
    assert store.analyse(path.as_uri(), text, path).checked.findings
    assert store.spent == [] and gc.isenabled()  # not deferred: freed, and the collector back, on return
    assert store.analyse(path.as_uri(), text + "\n", path, deferred=True).checked.findings
    replaced, parsed = store.spent  # the document's parse before (the last one is kept), the check's file
    assert isinstance(replaced[1], ast.Module)  # type: ignore[index]
    assert isinstance(parsed.source.tree, ast.Module)  # type: ignore[attr-defined]
    assert not gc.isenabled()  # until the server has answered
    store.free_spent()
    assert store.spent == [] and gc.isenabled()
