"""A first run of the command says what it did, what it left and how to get it (issue 17)."""
from __future__ import annotations

from pathlib import Path

import pytest

from flake8_peft_names import cli

UNSAFE_ONLY = (
    'from peft import LoraConfig, get_peft_model\nmodel = get_peft_model(base, LoraConfig(), adapter_name="lora")\n'
)
USE_SITE = (
    'from peft import PeftModel\nNAME = "lora"\nmodel = PeftModel.from_pretrained(base, "out", adapter_name=NAME)\n'
)


@pytest.fixture
def train(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "train.py"
    path.write_text(UNSAFE_ONLY)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["check", "--isolated", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_diff_with_only_unsafe_fixes_says_they_are_hidden(train: Path, capsys) -> None:
    code, out, err = run(capsys, "--diff", "train.py")
    assert (code, out) == (1, "")
    assert "No diff to show." in err
    assert "1 hidden unsafe fix(es) can be enabled with --unsafe-fixes." in err


def test_diff_with_unsafe_fixes_says_what_it_would_fix(train: Path, capsys) -> None:
    code, out, err = run(capsys, "--diff", "--unsafe-fixes", "train.py")
    assert code == 1 and out.startswith("--- a/train.py")
    assert err.strip() == "Would fix 1 finding(s) in 1 file(s) (the diff above)."


def test_fix_without_unsafe_fixes_says_what_it_left(train: Path, capsys) -> None:
    code, out, err = run(capsys, "--fix", "train.py")
    assert code == 1 and train.read_text() == UNSAFE_ONLY
    assert "No fixes applied. 1 finding(s) left: 1 hidden unsafe fix(es) can be enabled with --unsafe-fixes." in err


def test_fix_with_unsafe_fixes_reports_what_it_fixed(train: Path, capsys) -> None:
    code, out, err = run(capsys, "--fix", "--unsafe-fixes", "train.py")
    assert code == 0 and train.read_text() != UNSAFE_ONLY
    assert err.strip() == "Fixed 1 finding(s) in 1 file(s)."


def test_unsafe_fixes_without_fix_or_diff_is_not_silently_ignored(train: Path, capsys) -> None:
    code, out, err = run(capsys, "--unsafe-fixes", "train.py")
    assert code == 1
    assert "--unsafe-fixes does nothing without --fix or --diff" in err
    assert "Found 1 finding(s). 1 hidden unsafe fix(es) can be enabled with --fix --unsafe-fixes." in err


def test_every_finding_carries_a_fix_tag_use_sites_too(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "load.py").write_text(USE_SITE)
    code, out, err = run(capsys, "load.py")
    lines = out.splitlines()
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith("load.py:2:8: PFT102") and lines[0].endswith("on line 3 [fix: unsafe]")
    assert lines[1].startswith("load.py:3:") and lines[1].endswith("[fix: unsafe, at line 2]")
    assert "2 hidden unsafe fix(es) can be enabled with --fix --unsafe-fixes." in err


def test_findings_without_any_fix_say_so(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "two.py").write_text(
        'from peft import PeftModel\nm = PeftModel.from_pretrained(base, "a", adapter_name="style")\n'
        'm.load_adapter("b", adapter_name="style_v2")\n'
    )
    code, out, err = run(capsys, "two.py")
    assert code == 1 and out.splitlines() and all(line.endswith("[fix: none]") for line in out.splitlines()), out
    assert "without an automatic fix" in err


def test_a_name_used_on_several_lines_lists_every_line_at_its_definition(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "many.py").write_text(USE_SITE + "model.set_adapter(NAME)\nmodel.delete_adapter(NAME)\n")
    code, out, err = run(capsys, "many.py")
    (definition,) = [line for line in out.splitlines() if line.startswith("many.py:2:")]
    assert "used as an adapter name on lines 3, 4 and 5" in definition


ADAPTER_FILE = 'import torch\n\ntorch.save(model.state_dict(), "out/adapter_model.bin")\n'
FUSE = (
    "from diffusers import DiffusionPipeline\n\npipe = DiffusionPipeline.from_pretrained('x')\n"
    "pipe.load_lora_weights('r', adapter_name='to')\npipe.fuse_lora(adapter_names=['to'])\n"
)


def test_pft204_claims_only_what_happens_in_the_configured_range(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "save.py").write_text(ADAPTER_FILE)
    code, out, err = run(capsys, "--peft-version", ">=0.21", "save.py")
    assert code == 1 and "raises KeyError when the model has modules_to_save" in out
    assert "loads nothing" not in out and "loses every weight" not in out
    assert "1 with a suggested fix, shown but never applied." in err
    code, out, err = run(capsys, "--peft-version", "==0.17.1", "save.py")
    assert "loads nothing when the model has no modules_to_save" in out


def test_pft101_consequence_depends_on_the_api(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fuse.py").write_text(FUSE)
    code, out, err = run(capsys, "fuse.py")
    load, fuse = out.splitlines()
    assert load.startswith("fuse.py:4:") and "raises KeyError when the adapter is created" in load
    assert fuse.startswith("fuse.py:5:") and "when the adapter is created" not in fuse
    assert "names an adapter that cannot exist" in fuse


@pytest.mark.parametrize(
    "value, hint",
    [
        ("0.17", "did you mean '==0.17.*' (every 0.17 release) or '>=0.17'? (in setup.cfg)"),
        ("0.17.1", "did you mean '==0.17.1' or '>=0.17.1'? (in setup.cfg)"),
    ],
)
def test_a_bare_version_gets_a_hint_naming_the_config_file(tmp_path: Path, capsys, monkeypatch, value, hint) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "setup.cfg").write_text(f"[flake8]\npeft-version = {value}\n")
    (tmp_path / "x.py").write_text("")
    assert cli.main(["check", "x.py"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"flake8-peft-names: peft-version={value!r} is not a PEP 440 version specifier; {hint}"
    )


def test_suggested_names_follow_one_convention_and_never_overlap(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "two.py").write_text(
        "from peft import get_peft_model\nmodel = get_peft_model(base, config, adapter_name='lora')\n"
        "model.load_adapter('out', adapter_name='lora_A')\nmodel.load_adapter('o2', adapter_name='v1.2')\n"
    )
    code, out, err = run(capsys, "--fix", "--unsafe-fixes", "two.py")
    assert code == 0, out + err
    fixed = (tmp_path / "two.py").read_text()
    for new in ("'adapter_lora'", "'adapter2_lora-A'", "'adapter_v1-2'"):
        assert new in fixed, fixed
