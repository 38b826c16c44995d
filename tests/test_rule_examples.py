"""Every rule's own examples: the bad one reports exactly what its `# expect:` comments say, the good one
reports nothing, and `# noqa` silences each finding.

Tier 0 checks them in process (tests/inprocess.py); the pre-push tier runs the real flake8 once over all
of them, and through stdin with a display name, and must print the same."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from flake8_peft_names.rule import example_expectations
from flake8_peft_names.rules import RULES
from tests.flake8_run import findings, flake8, flake8_by_file
from tests.inprocess import findings as inprocess_findings

CODES = [rule.code for rule in RULES]


def noqa_version(example: str) -> str:
    return re.sub(r"# expect: (\S+)@\d+", lambda m: f"# noqa: {m.group(1)}", example)


def example_files() -> dict[str, str]:
    """File name -> text: each rule's bad example, good example, and bad example with `# noqa: CODE`."""
    files = {}
    for rule in RULES:
        files[f"{rule.code}_bad.py"] = rule.example
        files[f"{rule.code}_good.py"] = rule.use_instead
        files[f"{rule.code}_noqa.py"] = noqa_version(rule.example)
    return files


def expected_of(name: str, text: str) -> list[tuple[int, int, str]]:
    return sorted(example_expectations(text)) if name.endswith("_bad.py") else []


def test_rule_codes_and_names_are_unique_and_well_formed() -> None:
    assert len(set(CODES)) == len(CODES) and CODES == sorted(CODES)
    names = [rule.name for rule in RULES]
    assert len(set(names)) == len(names)
    for rule in RULES:
        assert re.fullmatch(r"PFT[1-9]\d\d", rule.code)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name)
        for text in (rule.summary, rule.message, rule.what_it_does, rule.why_bad, rule.fix_safety):
            assert text.strip(), rule.code
        assert rule.hazards, rule.code  # which rule owns which hazard: tests/test_rule_hazards.py


@pytest.mark.parametrize("code", CODES)
def test_bad_example_reports_exactly_its_expectations(code: str) -> None:
    rule = next(r for r in RULES if r.code == code)
    expected = sorted(example_expectations(rule.example))
    assert expected and all(c == code for _, _, c in expected)
    assert inprocess_findings(rule.example, f"{code}_bad.py") == expected


@pytest.mark.parametrize("code", CODES)
def test_good_example_reports_nothing(code: str) -> None:
    rule = next(r for r in RULES if r.code == code)
    assert inprocess_findings(rule.use_instead, f"{code}_good.py") == []


@pytest.mark.parametrize("code", CODES)
def test_noqa_with_the_code_silences_the_example(code: str) -> None:
    rule = next(r for r in RULES if r.code == code)
    silenced = noqa_version(rule.example)
    assert silenced != rule.example and inprocess_findings(rule.example, f"{code}_noqa.py")
    assert inprocess_findings(silenced, f"{code}_noqa.py") == []


@pytest.mark.prepush
def test_flake8_reports_what_the_in_process_check_reports_on_every_example(tmp_path: Path) -> None:
    """One flake8 process over all the examples: exactly the expectations, as in process."""
    files = example_files()
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    found = flake8_by_file(tmp_path, "--select=PFT,E902,E999", str(tmp_path))
    mismatched = {
        name: (found.get(name, []), expected_of(name, text))
        for name, text in files.items()
        if found.get(name, []) != expected_of(name, text)
    }
    assert not mismatched, mismatched
    assert set(found) == {f"{code}_bad.py" for code in CODES}


@pytest.mark.prepush
@pytest.mark.parametrize("code", [CODES[0], next(c for c in CODES if c.startswith("PFT2"))])
def test_bad_example_through_stdin_with_display_name(code: str) -> None:
    """flake8 reads an editor's buffer from stdin: one adapter-name rule and one state-dict rule (the
    plugin gets the same tree and lines whatever the rule; every rule's example is checked above)."""
    rule = next(r for r in RULES if r.code == code)
    result = flake8(
        "--select=PFT", "--format=%(path)s:%(row)d:%(col)d:%(code)s", "--stdin-display-name=train.py", "-",
        stdin=rule.example,
    )
    assert findings(result) == sorted(example_expectations(rule.example))
    assert result.stdout and all(line.startswith("train.py:") for line in result.stdout.splitlines())
