"""The README and docs/rules/ are generated from the rule definitions; they must not drift."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from flake8_peft_names.docs import rule_page, rules_table
from flake8_peft_names.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
REGENERATE = "run `python -m flake8_peft_names.docs`"


def test_readme_rule_table_matches_the_rules() -> None:
    assert rules_table() in README, REGENERATE


def test_rule_pages_match_the_rules() -> None:
    folder = ROOT / "docs" / "rules"
    assert sorted(p.name for p in folder.glob("*.md")) == sorted(f"{r.code}.md" for r in RULES), REGENERATE
    for rule in RULES:
        assert (folder / f"{rule.code}.md").read_text(encoding="utf-8") == rule_page(rule), REGENERATE


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second() -> None:
    block = re.match(r"# [^\n]+\n\n([^`#][^\n]*\n)+\n```sh\n(.*?)\n```", README, re.DOTALL)
    assert block, "README must start with a title, one paragraph saying what the tool is, and one sh block"
    assert "flake8 plugin" in block.group(1) or "flake8 plugin" in README.split("```sh")[0]
    commands = block.group(2).splitlines()
    assert len(commands) == 2 and "examples/" in commands[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands[1] in ci


def test_every_plugin_option_is_documented() -> None:
    from flake8_peft_names.plugin import Plugin

    class Recorder:
        names: list[str] = []

        def add_option(self, name: str, **_: object) -> None:
            self.names.append(name)

    Plugin.add_options(Recorder())
    assert Recorder.names
    for name in Recorder.names:
        assert f"`{name}`" in README, name


@pytest.mark.prepush  # tier (tests/conftest.py): a subprocess
def test_readme_main_job_reports_real_findings_on_the_examples() -> None:
    """The first README command's flake8 run, with the repository's own config, as a user runs it."""
    from tests.flake8_run import findings, flake8

    found = findings(flake8("--select=PFT", "examples/", cwd=ROOT, isolated=False))
    assert len(found) >= 10
    assert {code for _, _, code in found} >= {"PFT101", "PFT102", "PFT104", "PFT106", "PFT107"}


@pytest.mark.prepush  # tier (tests/conftest.py): a subprocess
def test_readme_fix_example_is_what_the_command_prints() -> None:
    import subprocess
    import sys

    command = re.search(r"```sh\n(flake8-peft-names check --diff[^\n]*)\n```\n\n```diff\n(.*?)```", README, re.DOTALL)
    assert command, "README shows a --diff example"
    args = command.group(1).split()[1:]
    result = subprocess.run(
        [sys.executable, "-m", "flake8_peft_names", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.stdout == command.group(2)


@pytest.mark.prepush  # runs flake8
def test_readme_headline_finding_is_what_the_first_command_prints(monkeypatch) -> None:
    """The finding under the intro, suffix included: the examples' project declares the range assumed."""
    import subprocess
    import sys

    monkeypatch.delenv("FLAKE8_PEFT_NAMES_PROJECT_RANGE")
    shown = re.search(r"```text\n(examples/[^\n]+)\n```", README)
    assert shown and shown.group(1).endswith("(assumed peft>=0.13 from requirements.txt)")
    command = [sys.executable, "-m", "flake8", "--select=PFT", "examples/"]
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert shown.group(1) in output.stdout.splitlines(), output.stdout
