"""scripts/precision-corpus.py and its data files (issue 12's precision measurement).

No downloads: the script runs with `--local` on a tiny corpus made here. The committed corpus list and
triage file are checked for shape, so a bad edit fails here rather than in the long run.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "precision-corpus.py"
CORPUS = REPO / "precision" / "corpus.tsv"
TRIAGES = {"dev": REPO / "precision" / "triage-dev.tsv", "heldout": REPO / "precision" / "triage-heldout.tsv"}

BAD = 'from peft import get_peft_model\n\nmodel = get_peft_model(base, config, adapter_name="lora")\n'


def corpus_rows() -> list[list[str]]:
    return [line.split("\t") for line in CORPUS.read_text().splitlines() if line and not line.startswith("#")]


def test_corpus_list_is_pinned_and_split_by_its_own_rule() -> None:
    rows = corpus_rows()
    names = [r[0] for r in rows]
    assert len(names) == len(set(names))
    for name, version, kind, split, exclude, sha in rows:
        assert kind in ("sdist", "wheel") and len(sha) == 64 and version
        h = hashlib.sha256(("precision-split-v1:" + name).encode()).hexdigest()
        assert split == ("heldout" if int(h[:8], 16) % 2 else "dev"), name
    benchmark = {"peft", "trl", "diffusers", "axolotl", "llamafactory", "ms-swift", "transformers", "unsloth"}
    for name, _, _, _, exclude, _ in rows:
        if name in benchmark:  # their package code is what the rules were tuned on
            assert exclude != "-", name


def test_triage_rows_are_well_formed_and_in_their_half() -> None:
    split_of = {r[0]: r[3] for r in corpus_rows()}
    for split, triage in TRIAGES.items():
        lines = triage.read_text().splitlines()
        assert lines[0].split("\t") == ["project", "path", "line", "code", "verdict", "pattern", "line_hash", "reason"]
        for line in lines[1:]:
            project, path, _, code, verdict, pattern, line_hash, reason = line.split("\t")
            assert split_of[project] == split, line
            assert path and code.startswith("PFT") and len(line_hash) == 10 and reason
            assert verdict in ("right", "latent", "wrong")
            assert (pattern != "-") == (verdict == "wrong"), line


def run(local: Path, triage: Path) -> str:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--local", str(local), "--triage", str(triage),
                           "--list", "all"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.prepush  # starts processes (tiers: tests/conftest.py)
def test_verdicts_follow_a_moved_line_and_the_rest_is_untriaged(tmp_path: Path) -> None:
    local = tmp_path / "corpus"
    (local / "proj" / "scripts").mkdir(parents=True)
    (local / "proj" / "scripts" / "train.py").write_text(BAD)
    (local / "other").mkdir()
    (local / "other" / "t.py").write_text(BAD)
    source = 'model = get_peft_model(base, config, adapter_name="lora")'
    line_hash = hashlib.sha1(source.encode()).hexdigest()[:10]
    triage = tmp_path / "triage.tsv"
    triage.write_text("project\tpath\tline\tcode\tverdict\tpattern\tline_hash\treason\n"
                      f"proj\tscripts/train.py\t3\tPFT102\tright\t-\t{line_hash}\tsaved later\n")
    out = run(local, triage)
    assert "| PFT102 | 2 | 1 | 0 | 0 | 1 | 100% of 1 |" in out
    assert "proj/scripts/train.py:3: PFT102 right" in out
    assert "other/t.py:3: PFT102 untriaged" in out

    (local / "proj" / "scripts" / "train.py").write_text("import os\n\n" + BAD)  # the line moves down by two
    out = run(local, triage)
    assert "proj/scripts/train.py:5: PFT102 right" in out
