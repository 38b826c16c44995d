"""Annotated fixtures: each line that must be reported ends in `# expect: CODE@col`; nothing else may be."""
from __future__ import annotations

from pathlib import Path

import pytest

from flake8_peft_names.rule import example_expectations
from tests.flake8_run import findings, flake8

FIXTURES = sorted((Path(__file__).parent / "fixtures").rglob("*.py"))


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(p.parents[1])) for p in FIXTURES])
def test_fixture_findings_match_expectations(path: Path) -> None:
    expected = sorted(example_expectations(path.read_text(encoding="utf-8")))
    assert findings(flake8("--select=PFT", str(path))) == expected
