"""`check FOLDER` does not walk into virtual environments, build output or what git ignores (issue 17);
a path given explicitly is always checked."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from flake8_peft_names import cli

pytestmark = pytest.mark.prepush  # git runs as a subprocess (tiers: tests/conftest.py)

BAD = 'from peft import LoraConfig, get_peft_model\nmodel = get_peft_model(base, LoraConfig(), adapter_name="lora")\n'


def write(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(BAD)


def reported(capsys: pytest.CaptureFixture[str], *argv: str) -> set[str]:
    cli.main(["check", "--isolated", "-j", "1", *argv])
    return {line.split(":", 1)[0] for line in capsys.readouterr().out.splitlines()}


def test_what_users_never_mean_to_lint_is_skipped(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "train.py", "myenv/lib/python3.11/site-packages/pkg/x.py", "build/lib/x.py", "dist/x.py")
    write(tmp_path, "node_modules/x.py", "pkg.egg-info/x.py", ".tox/py/x.py", "src/site-packages/x.py")
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert reported(capsys, ".") == {"./train.py"}


def test_an_explicit_path_is_always_checked(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "build/gen.py")
    assert reported(capsys, "build/gen.py") == {"build/gen.py"}
    assert reported(capsys, "build") == {"build/gen.py"}  # the folder named itself is walked


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_gitignore_is_respected_unless_turned_off(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q"], check=True)
    (tmp_path / ".gitignore").write_text("scratch/\n*_old.py\n")
    write(tmp_path, "train.py", "scratch/try.py", "train_old.py", "sub/deep_old.py")
    assert reported(capsys, ".") == {"./train.py"}
    assert reported(capsys, "--no-respect-gitignore", ".") == {
        "./train.py", "./scratch/try.py", "./train_old.py", "./sub/deep_old.py"
    }
    (tmp_path / "setup.cfg").write_text("[flake8]\nrespect-gitignore = false\n")
    cli.main(["check", "-j", "1", "."])
    assert "./scratch/try.py" in capsys.readouterr().out
    assert reported(capsys, "train_old.py") == {"train_old.py"}


def test_a_bad_respect_gitignore_value_is_a_config_error(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "setup.cfg").write_text("[flake8]\nrespect-gitignore = maybe\n")
    assert cli.main(["check", "."]) == 2
    assert "respect-gitignore: 'maybe' is not true or false (in setup.cfg)" in capsys.readouterr().err
