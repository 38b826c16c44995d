"""The language server's reparse of a changed buffer (flake8_peft_names/server/reparse.py): equal to the
whole parse on random edits of real files, positions included; the whole text parsed wherever that is in
doubt; and the check of a changed document, from the reparse, reports what a fresh check reports."""
from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from flake8_peft_names.server.configs import ConfigStore
from flake8_peft_names.server.documents import DocumentStore
from flake8_peft_names.server.reparse import COOKIE_LINES, reparse
from flake8_peft_names.source_files import physical_lines
from tests.reparse_fuzz import check_file, files

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = files([str(ROOT / "examples"), str(ROOT / "tests" / "fixtures")])

HEAD = '"""A script."""\nimport os\n\n'
TEXT = HEAD + "x = 1\n\n\ndef f(a):\n    return a\n\n\n@decorated\nclass C:\n    y = 2\n\n\nz = [\n    3,\n]\n"

BACKSLASH = TEXT.replace("x = 1\n", "x = 1 \\\n")  # x ends on its line, the backslash joins the empty one after


def reparsed(old: str, new: str) -> ast.Module | None:
    return reparse(physical_lines(old), ast.parse(old), physical_lines(new))


def same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a, include_attributes=True) == ast.dump(b, include_attributes=True)


@pytest.mark.parametrize("path", SAMPLE[::4], ids=lambda p: str(p.relative_to(ROOT)))
def test_random_edits_reparse_as_the_whole_text_parses(path: Path) -> None:
    edits, _ = check_file(path.read_text("utf-8"), random.Random(str(path.relative_to(ROOT))), 12)
    assert edits or ast.parse  # files that do not parse have no edits to check


@pytest.mark.full
def test_random_edits_of_every_fixture_and_example() -> None:
    edits = reparsed_count = 0
    for path in SAMPLE:
        done, fast = check_file(path.read_text("utf-8"), random.Random(str(path.relative_to(ROOT))), 40)
        edits, reparsed_count = edits + done, reparsed_count + fast
    assert reparsed_count > edits / 4  # the reparse is exercised, not only its fallback


@pytest.mark.parametrize(
    "old, new",
    [
        (TEXT, TEXT.replace("return a", "return a + 1")),  # inside a function: the rest kept
        (TEXT, TEXT.replace("    y = 2\n", "    y = 2\n    w = 4\n")),  # a line more: the rest parsed again
        (TEXT, TEXT.replace("@decorated\n", "")),  # a decorator goes with its class
        (TEXT, TEXT + "# a comment\n"),
        (TEXT, TEXT.replace("x = 1\n\n\n", "x = 1\n\n\n# between\n")),
        (TEXT, TEXT.replace("import os\n", "import os\nq = 1\n")),  # right after the first lines
        (TEXT.replace("x = 1\n", "x = 1; v = 0\n"), TEXT.replace("x = 1\n", "x = 1; v = 0\n").replace("a\n", "b\n")),
    ],
)
def test_a_change_after_the_first_lines_is_reparsed(old: str, new: str) -> None:
    tree = reparsed(old, new)
    assert tree is not None and same(tree, ast.parse(new))


@pytest.mark.parametrize(
    "old, new",
    [
        (TEXT, TEXT.replace('"""A script."""', '"""A text."""')),  # the first lines: a coding cookie may change
        (BACKSLASH, BACKSLASH.replace("return a", "return b")),  # a backslash continues the line before the change
        (TEXT, TEXT.replace("    y = 2\n", "    y = (2\n")),  # the changed text does not parse alone
        (TEXT, TEXT.replace("    y = 2\n", '    y = """2\n')),
        (TEXT, TEXT),
    ],
)
def test_the_whole_text_is_parsed_when_in_doubt(old: str, new: str) -> None:
    assert reparsed(old, new) is None


def test_the_statements_around_the_change_are_kept() -> None:
    old, new = TEXT, TEXT.replace("return a", "return a + 1")
    before, tree = ast.parse(old), reparse(physical_lines(old), ast.parse(old), physical_lines(new))
    assert tree is not None
    assert [type(s).__name__ for s in tree.body] == [type(s).__name__ for s in before.body]


@pytest.mark.parametrize("example", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_a_changed_document_is_checked_from_its_last_parse(example: Path, tmp_path: Path) -> None:
    """Edits one after another, as a user makes them: each check, from the last parse, reports what a
    fresh check of the same text reports."""
    path, rng = tmp_path / "train.py", random.Random(example.name)
    uri, lines = path.as_uri(), physical_lines(example.read_text())
    store = DocumentStore(ConfigStore())
    store.analyse(uri, "".join(lines), path)
    reused = 0
    for _ in range(12):
        at = rng.randrange(COOKIE_LINES, len(lines))
        lines = lines[:at] + [rng.choice(["# a comment\n", "x = 1\n", lines[at]])] + lines[at + 1 :]
        text = "".join(lines)
        before = store._parsed[uri][1].body
        incremental = store.analyse(uri, text, path)
        reused += any(s is t for s, t in zip(before, store._parsed[uri][1].body))
        fresh = DocumentStore(ConfigStore()).analyse(uri, text, path)
        assert incremental.checked.findings == fresh.checked.findings
    assert reused  # the statements before the change came from the last parse
