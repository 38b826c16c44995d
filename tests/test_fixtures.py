"""Annotated fixtures: each line that must be reported ends in `# expect: CODE@col`; nothing else may be.

Tier 0 checks every fixture in process (tests/inprocess.py: the engine, selection and `# noqa` as the
command applies them); the pre-push tier runs the real flake8 once over all of them and must print exactly
the same, which is what makes the in-process check stand for flake8."""
from __future__ import annotations

from pathlib import Path

import pytest

from flake8_peft_names.rule import example_expectations
from tests.flake8_run import flake8_by_file
from tests.inprocess import findings

FOLDER = Path(__file__).parent / "fixtures"
FIXTURES = sorted(FOLDER.rglob("*.py"))


def expectations(path: Path) -> list[tuple[int, int, str]]:
    return sorted(example_expectations(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(p.parents[1])) for p in FIXTURES])
def test_fixture_findings_match_expectations(path: Path) -> None:
    assert findings(path.read_bytes(), str(path)) == expectations(path)


def test_fixtures_exist_and_expect_findings() -> None:
    assert len(FIXTURES) >= 20 and sum(bool(expectations(p)) for p in FIXTURES) >= 10


@pytest.mark.prepush
def test_flake8_reports_exactly_the_expectations_of_every_fixture_in_one_run() -> None:
    """One flake8 process over the whole folder; every fixture, also one with nothing to report, must be
    as its comments say (a file flake8 failed to check would be missing or report an E902/E999)."""
    found = flake8_by_file(FOLDER, "--select=PFT,E902,E999", str(FOLDER))
    assert set(found) <= {str(p.relative_to(FOLDER)) for p in FIXTURES}, sorted(found)
    mismatched = {
        name: (found.get(name, []), expected)
        for name, expected in ((str(p.relative_to(FOLDER)), expectations(p)) for p in FIXTURES)
        if found.get(name, []) != expected
    }
    assert not mismatched, mismatched
