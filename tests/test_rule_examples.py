"""Every rule's own examples, run through the real flake8: the bad one reports exactly what its
`# expect:` comments say, the good one reports nothing, and `# noqa` silences each finding."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from flake8_peft_names.rule import example_expectations
from flake8_peft_names.rules import RULES
from tests.flake8_run import findings, flake8

CODES = [rule.code for rule in RULES]


@pytest.fixture(scope="module")
def example_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("examples")
    for rule in RULES:
        (folder / f"{rule.code}_bad.py").write_text(rule.example, encoding="utf-8")
        (folder / f"{rule.code}_good.py").write_text(rule.use_instead, encoding="utf-8")
        noqa = re.sub(r"# expect: (\S+)@\d+", lambda m: f"# noqa: {m.group(1)}", rule.example)
        (folder / f"{rule.code}_noqa.py").write_text(noqa, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def flake8_on_examples(example_dir: Path) -> dict[str, list[tuple[int, int, str]]]:
    """One flake8 run over every example file, findings grouped by file name."""
    result = flake8("--select=PFT", "--format=%(path)s:%(row)d:%(col)d:%(code)s", str(example_dir))
    assert result.returncode in (0, 1), result.stderr
    grouped: dict[str, list[tuple[int, int, str]]] = {}
    for line in result.stdout.splitlines():
        path, row, col, code = line.rsplit(":", 3)
        grouped.setdefault(Path(path).name, []).append((int(row), int(col), code))
    return grouped


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
def test_bad_example_reports_exactly_its_expectations(code: str, flake8_on_examples: dict) -> None:
    rule = next(r for r in RULES if r.code == code)
    expected = sorted(example_expectations(rule.example))
    assert expected and all(c == code for _, _, c in expected)
    assert sorted(flake8_on_examples.get(f"{code}_bad.py", [])) == expected


@pytest.mark.parametrize("code", CODES)
def test_good_example_reports_nothing(code: str, flake8_on_examples: dict) -> None:
    assert flake8_on_examples.get(f"{code}_good.py", []) == []


@pytest.mark.parametrize("code", CODES)
def test_noqa_with_the_code_silences_the_example(code: str, flake8_on_examples: dict) -> None:
    assert flake8_on_examples.get(f"{code}_noqa.py", []) == []


@pytest.mark.parametrize("code", CODES)
def test_bad_example_through_stdin_with_display_name(code: str) -> None:
    rule = next(r for r in RULES if r.code == code)
    result = flake8(
        "--select=PFT", "--format=%(path)s:%(row)d:%(col)d:%(code)s", "--stdin-display-name=train.py", "-",
        stdin=rule.example,
    )
    assert findings(result) == sorted(example_expectations(rule.example))
    assert all(line.startswith("train.py:") for line in result.stdout.splitlines())
