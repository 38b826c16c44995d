"""`# noqa` is applied as flake8 applies it; the tokenizer pass that maps it to logical lines is skipped only
where it could not silence anything."""
from __future__ import annotations

import ast

import pytest

from flake8_peft_names.flake8_api import NOQA_INLINE
from flake8_peft_names.noqa import may_be_silenced, noqa_lines
from flake8_peft_names.source_files import physical_lines

CASES = {
    "another statement": ("x = f(1)\ny = 2  # noqa: E501\n", [1], False),
    "no noqa": ("x = f(1)\ny = 2\n", [1], False),
    "same line": ("x = f(1)  # noqa: PFT101\n", [1], True),
    "same statement": ("x = f(\n    1,\n)  # noqa\n", [1], True),
    "a statement sharing a line": ("a = (\n1); b = (\n2)  # noqa\n", [1], True),
    "in a function": ("def f():\n    x = 1\n    y = 2  # noqa\n", [2], True),
    "decorated": ("@d(1)  # noqa\ndef f():\n    pass\n", [2], True),
    "a backslash joins statements": ("x = 1; \\\ny = 2  # noqa\n", [1], True),
}


@pytest.mark.parametrize("case", CASES)
def test_the_tokenizer_pass_is_skipped_only_where_no_noqa_can_apply(case: str) -> None:
    text, found_lines, expected = CASES[case]
    lines = physical_lines(text)
    assert may_be_silenced(found_lines, lines, ast.parse(text)) is expected
    if not expected:  # skipping it changes nothing: no logical line of a finding holds a `# noqa`
        mapping = noqa_lines(text)
        assert not any(NOQA_INLINE.search(mapping.get(line) or "") for line in found_lines)
