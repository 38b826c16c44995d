"""The hooks of .pre-commit-hooks.yaml, run by the real pre-commit against a commit of the working tree
(uncommitted work included), in a temporary repository; pre-commit installs them from PyPI."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from nbformat import writes
from nbformat.v4 import new_code_cell, new_notebook

from flake8_peft_names.rule import Applicability
from flake8_peft_names.rules import RULES
from tests.test_cli import BAD, cli

pytestmark = pytest.mark.prepush  # tier (tests/conftest.py)

ROOT = Path(__file__).resolve().parent.parent
INSTALL_TIMEOUT = 900  # the first run builds the hook's virtualenv: pip installs the package and its dependencies


def git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    return dict(
        os.environ,
        HOME=str(home),
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")),  # hook environments, shared by the tests
        PRE_COMMIT_COLOR="never",
    )


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, str]:
    """A git repository with one commit holding the working tree's files (tracked and new, not ignored)."""
    repo = tmp_path_factory.mktemp("hook-repo")
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT, env=env)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    assert (repo / ".pre-commit-hooks.yaml").is_file()
    git("init", "-q", cwd=repo, env=env)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-q", "-m", "working tree", cwd=repo, env=env)
    return repo, git("rev-parse", "HEAD", cwd=repo, env=env)


def project(tmp_path: Path, env: dict[str, str], hook_repo: tuple[Path, str], hook: str, files: dict[str, str]) -> Path:
    repo, rev = hook_repo
    config = {"repos": [{"repo": str(repo), "rev": rev, "hooks": [{"id": hook}]}]}
    (tmp_path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    git("init", "-q", cwd=tmp_path, env=env)
    git("add", "-A", cwd=tmp_path, env=env)
    return tmp_path


def pre_commit(where: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color=never"],
        cwd=where, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
    )


def test_manifest_declares_a_check_hook_and_a_safe_fix_hook() -> None:
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {
        "flake8-peft-names", "flake8-peft-names-fix", "flake8-peft-names-docs", "flake8-peft-names-docs-fix"
    }
    pairs = (("flake8-peft-names", "flake8-peft-names-fix"), ("flake8-peft-names-docs", "flake8-peft-names-docs-fix"))
    for check, fix in pairs:
        assert hooks[check]["entry"].split()[:2] == ["flake8-peft-names", "check"]
        assert hooks[fix]["entry"].split()[:3] == ["flake8-peft-names", "check", "--fix"]
        assert "--unsafe-fixes" not in hooks[fix]["entry"]
    for name, hook in hooks.items():
        types = ["markdown", "rst"] if name.endswith(("-docs", "-docs-fix")) else ["python", "jupyter"]
        assert hook["language"] == "python" and hook["types_or"] == types


def test_check_hook_fails_on_a_staged_file_with_a_finding(tmp_path: Path, env: dict[str, str], hook_repo) -> None:
    cell = '%pip install peft\nfrom peft import get_peft_model\nm = get_peft_model(b, c, adapter_name="lora")'
    notebook = new_notebook(cells=[new_code_cell(cell)])
    where = project(
        tmp_path, env, hook_repo, "flake8-peft-names",
        {"train.py": BAD, "clean.py": "import peft\n", "explore.ipynb": writes(notebook) + "\n"},
    )
    result = pre_commit(where, env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "flake8-peft-names" in result.stdout and "Failed" in result.stdout
    assert "train.py:3:51: PFT102 adapter name 'lora'" in result.stdout
    assert "explore.ipynb:cell 1:3:" in result.stdout  # notebooks go to the hook too (types_or: jupyter)
    assert "clean.py" not in result.stdout

    (where / "train.py").write_text(BAD.replace('"lora"', '"sft"'))
    (where / "explore.ipynb").unlink()
    git("add", "-A", cwd=where, env=env)
    clean = pre_commit(where, env)
    assert clean.returncode == 0 and "Passed" in clean.stdout, clean.stdout


def test_fix_hook_applies_safe_fixes_only(tmp_path: Path, env: dict[str, str], hook_repo) -> None:
    """The file ends as `check --fix` (safe fixes only) leaves it. A rule with a safe fix is fixed in
    the file; while every fix is unsafe, the file stays as it was and the finding is reported."""
    safe = next((rule for rule in RULES if rule.fix_applicability is Applicability.SAFE), None)
    source = safe.example if safe else BAD
    reference = tmp_path / "reference"
    reference.mkdir()
    (reference / "train.py").write_text(source)
    cli("check", "--fix", "train.py", cwd=reference)
    expected = (reference / "train.py").read_text()

    (tmp_path / "repo").mkdir()
    where = project(tmp_path / "repo", env, hook_repo, "flake8-peft-names-fix", {"train.py": source})
    result = pre_commit(where, env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (where / "train.py").read_text() == expected
    if safe:
        assert expected != source and "files were modified by this hook" in result.stdout
    else:
        assert expected == source
        assert "train.py:3:51: PFT102" in result.stdout and "[fix: unsafe]" in result.stdout
