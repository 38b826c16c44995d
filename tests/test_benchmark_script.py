"""benchmarks/run.py works: run `--quick` on a tiny local corpus (no downloads) and read its report.

Only the shape of the report is checked, never a timing: benchmarks are not assertions.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.full  # tier (tests/conftest.py)

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "run.py"

BAD = 'from peft import get_peft_model\n\nmodel = get_peft_model(base, config, adapter_name="lora")\n'
CLEAN = 'from peft import get_peft_model\n\nmodel = get_peft_model(base, config, adapter_name="sft")\n'
PLAIN = "import os\n\n\ndef joined(a, b):\n    return os.path.join(a, b)\n"

TIMING_ROWS = (
    "(a) flake8 -j1, no plugin",
    "(b) flake8 -j1 + flake8-peft-names",
    "(d) flake8-peft-names check -j1",
    "(d) flake8-peft-names check -j2",
    "(e) ast.parse floor, one process",
)
NUMBER = r"\d+\.\d+"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    base = tmp_path_factory.mktemp("bench")
    corpus, cache = base / "corpus", base / "cache"
    (corpus / "trainer" / "sub").mkdir(parents=True)
    (corpus / "utils").mkdir()
    (corpus / "trainer" / "train.py").write_text(BAD)
    (corpus / "trainer" / "sub" / "clean.py").write_text(CLEAN)
    (corpus / "utils" / "paths.py").write_text(PLAIN)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--corpus", str(corpus), "--cache", str(cache)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, corpus, cache


def row(stdout: str, label: str) -> list[str]:
    for line in stdout.splitlines():
        if line.startswith(f"| {label} |"):
            return [cell.strip() for cell in line.strip("|").split("|")]
    raise AssertionError(f"no row {label!r} in:\n{stdout}")


def test_corpus_is_counted(report):
    stdout, _, _ = report
    assert row(stdout, "trainer")[1:] == ["2", "6"]
    assert row(stdout, "utils")[1:] == ["1", "5"]
    assert row(stdout, "total")[1:3] == ["3", "11"]


@pytest.mark.parametrize("label", TIMING_ROWS)
def test_every_command_is_timed(report, label):
    cells = row(report[0], label)
    assert cells[1] == "1"  # --quick: one round
    assert re.fullmatch(NUMBER, cells[2]) and re.fullmatch(NUMBER, cells[4])
    assert re.fullmatch(rf"{NUMBER}–{NUMBER}", cells[3])


def test_torchfix_is_skipped_without_its_venv(report):
    stdout, _, cache = report
    assert "skipped" in row(stdout, "(c) flake8 -j1 + TorchFix")[2]
    assert not (cache / "venv-torchfix").exists()  # --quick installs nothing


def test_ratios_and_targets_are_reported(report):
    stdout = report[0]
    assert re.search(r"^- plugin overhead, CPU \(b\)/\(a\) − 1: [+-]\d+\.\d%", stdout, re.M)
    assert re.search(rf"^- check -j1 / ast.parse floor, CPU: {NUMBER}x", stdout, re.M)
    assert re.search(r"^- plugin overhead, in-process .*: [+-]\d+\.\d% \(median of 1, ", stdout, re.M)
    assert re.search(r"^Targets: plugin overhead ≤ 3%: (HOLDS|FAILS) \(whole runs\), (HOLDS|FAILS) \(in-process\); "
                     r"check ≤ 2x floor: (HOLDS|FAILS)", stdout, re.M)


def test_plugin_and_check_agree(report):
    assert "- agreement: flake8 + plugin reported 1 PFT findings, check 1 (same)" in report[0]


def test_fix_parses_only_the_file_with_a_fixable_finding(report):
    stdout, corpus, _ = report
    assert "- files with fixable findings (from check --output-format=json): 1 " in stdout
    assert "- files LibCST parsed (parse_module calls, counted): 1" in stdout
    assert "Files changed: 1; findings left: 0" in stdout
    assert (corpus / "trainer" / "train.py").read_text() == BAD  # the fix ran on a copy


def test_memory_at_1x_and_4x(report):
    stdout = report[0]
    assert re.search(rf"^- 1x \(3 files\): {NUMBER} MB", stdout, re.M)
    assert re.search(rf"^- 4x \(12 files\): {NUMBER} MB", stdout, re.M)
    assert re.search(rf"^- cores, on the 4x corpus: check -j1 wall {NUMBER} s, -j2 wall {NUMBER} s", stdout, re.M)


def test_findings_per_package_and_for_review(report):
    stdout, _, cache = report
    header = next(line for line in stdout.splitlines() if line.startswith("| package | findings |"))
    assert header.strip("| ").split(" | ")[-1] == "PFT102"
    assert row(stdout.split("Findings per package")[1], "trainer") == ["trainer", "1", "1", "1"]
    assert row(stdout.split("Findings per package")[1], "utils") == ["utils", "0", "0", "0"]
    records = json.loads((cache / "findings.json").read_text())
    assert [(r["path"], r["line"], r["code"]) for r in records] == [("trainer/train.py", 3, "PFT102")]
    assert (cache / "findings.txt").read_text().startswith("trainer/train.py:3:")
