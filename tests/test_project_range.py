"""Without `peft-version`, the range the checked file's project declares (issue 17), found from the file's
folder upwards, cached per folder, and named in every finding."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flake8_peft_names import cli, project_range
from flake8_peft_names.settings import PROJECT_RANGE_ENV, build_settings, settings_for

PYPROJECT_018 = '[project]\nname = "x"\ndependencies = ["torch", "peft>=0.18"]\n'
POETRY = '[tool.poetry.dependencies]\npython = "^3.9"\npeft = "^0.18"\n'
LORA = (
    'from peft import LoraConfig, get_peft_model\nmodel = get_peft_model(base, LoraConfig(), adapter_name="lora")\n'
)


@pytest.fixture(autouse=True)
def lookup_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROJECT_RANGE_ENV, raising=False)
    for cached in (project_range._range_of_folder, project_range.project_root, project_range._fallback):
        cached.cache_clear()


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    (tmp_path / "pkg").mkdir(exist_ok=True)
    (tmp_path / "pkg" / "train.py").write_text(LORA)
    return tmp_path / "pkg" / "train.py"


@pytest.mark.parametrize(
    "files, spec, source",
    [
        ({"pyproject.toml": PYPROJECT_018}, ">=0.18", "pyproject.toml"),
        (
            {"pyproject.toml": '[project]\nname = "x"\n[project.optional-dependencies]\ntrain = ["peft ==0.17.1"]\n'},
            "==0.17.1",
            "pyproject.toml",
        ),
        ({"pyproject.toml": POETRY}, "<0.19,>=0.18", "pyproject.toml"),
        ({"setup.cfg": "[options]\ninstall_requires =\n    torch\n    peft>=0.19,<1\n"}, "<1,>=0.19", "setup.cfg"),
        (
            {"setup.py": "from setuptools import setup\nREQS = ['peft>=0.20']\nsetup(install_requires=REQS)\n"},
            ">=0.20",
            "setup.py",
        ),
        ({"requirements.txt": "# pinned\ntorch==2.5\npeft==0.18.1  # latest\n"}, "==0.18.1", "requirements.txt"),
        ({"requirements/base.txt": "-r other.txt\npeft>=0.21\n"}, ">=0.21", "requirements/base.txt"),
    ],
)
def test_declared_range_is_read_from_each_kind_of_project_file(tmp_path: Path, files, spec, source) -> None:
    path = project(tmp_path, files)
    assert project_range.assumed_range(str(path)) == project_range.AssumedRange(spec, source)


def test_setup_py_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = project(tmp_path, {"setup.py": f"open({str(marker)!r}, 'w')\nsetup(install_requires=['peft>=0.18'])\n"})
    assert project_range.assumed_range(str(path)).spec == ">=0.18"
    assert not marker.exists()


def test_a_project_without_peft_falls_back_to_installed_peft_then_the_default(tmp_path, monkeypatch) -> None:
    path = project(tmp_path, {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["torch"]\n'})
    monkeypatch.setattr(project_range.importlib.metadata, "version", lambda name: "0.17.1")
    assert project_range.assumed_range(str(path)) == project_range.AssumedRange("==0.17.1", "installed peft")
    project_range._fallback.cache_clear()
    project_range._range_of_folder.cache_clear()

    def missing(name: str) -> str:
        raise project_range.importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(project_range.importlib.metadata, "version", missing)
    assert project_range.assumed_range(str(path)) == project_range.AssumedRange(">=0.13", "the default")


def test_the_nearest_project_root_wins(tmp_path: Path) -> None:
    project(tmp_path, {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["peft>=0.18"]\n'})
    inner = tmp_path / "pkg" / "sub"
    inner.mkdir()
    (inner / "setup.cfg").write_text("[options]\ninstall_requires = peft==0.17.0\n")
    assert project_range.assumed_range(str(inner / "a.py")).spec == "==0.17.0"
    assert project_range.assumed_range(str(tmp_path / "pkg" / "b.py")).spec == ">=0.18"


def test_the_lookup_is_cached_per_folder(tmp_path: Path, monkeypatch) -> None:
    path = project(tmp_path, {"requirements.txt": "peft>=0.18\n"})
    calls = []
    real = project_range.declared_peft
    monkeypatch.setattr(project_range, "declared_peft", lambda root: calls.append(root) or real(root))
    base = build_settings()
    for name in ("a.py", "b.py", "c.py"):
        settings_for(base, str(path.parent / name))
    assert len(calls) == 1


def test_cli_under_a_peft_018_project_does_not_report_the_pre_018_hazard(tmp_path, capsys, monkeypatch) -> None:
    path = project(tmp_path, {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["peft>=0.18"]\n'})
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--isolated", str(path)]) == 0
    assert "PFT102" not in capsys.readouterr().out


def test_every_finding_names_the_assumed_range(tmp_path, capsys, monkeypatch) -> None:
    path = project(tmp_path, {"requirements.txt": "peft>=0.13,<0.18\n"})
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--isolated", str(path)]) == 1
    out = capsys.readouterr().out
    assert "PFT102" in out
    assert all("(assumed peft<0.18,>=0.13 from requirements.txt)" in line for line in out.splitlines())


def test_a_configured_range_wins_and_carries_no_note(tmp_path, capsys, monkeypatch) -> None:
    path = project(tmp_path, {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["peft>=0.18"]\n'})
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--isolated", "--peft-version", ">=0.13", str(path)]) == 1
    out = capsys.readouterr().out
    assert "PFT102" in out and "assumed" not in out


def test_the_environment_switch_turns_the_lookup_off(tmp_path, monkeypatch) -> None:
    path = project(tmp_path, {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["peft>=0.18"]\n'})
    monkeypatch.setenv(PROJECT_RANGE_ENV, "off")
    base = build_settings()
    assert settings_for(base, str(path)) is base


def test_the_flake8_plugin_takes_the_range_from_the_files_project(tmp_path: Path) -> None:
    import ast

    from flake8_peft_names.plugin import Plugin

    old = project(tmp_path / "old", {"requirements.txt": "peft==0.17.1\n"})
    new = project(tmp_path / "new", {"requirements.txt": "peft>=0.18\n"})
    tree, lines = ast.parse(LORA), LORA.splitlines(keepends=True)
    assert [m for _, _, m, _ in Plugin(tree, lines, str(new)).run()] == []
    (message,) = [m for _, _, m, _ in Plugin(tree, lines, str(old)).run()]
    assert message.startswith("PFT102 ") and message.endswith(" (assumed peft==0.17.1 from requirements.txt)")


def test_a_folder_that_cannot_be_read_is_no_project(tmp_path: Path, monkeypatch) -> None:
    locked = tmp_path / "locked"
    (locked / "sub").mkdir(parents=True)
    (tmp_path / "requirements.txt").write_text("peft>=0.18\n")
    real = Path.is_file

    def is_file(self: Path) -> bool:  # as for a folder without read permission (root reads every folder)
        if locked in self.parents:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    assert project_range.assumed_range(str(locked / "sub" / "x.py")).spec == ">=0.18"


def test_a_file_that_cannot_be_read_is_skipped(tmp_path: Path, monkeypatch) -> None:
    path = project(tmp_path, {"pyproject.toml": "not = [valid toml", "requirements.txt": "peft==0.19.1\n"})
    assert project_range.assumed_range(str(path)) == project_range.AssumedRange("==0.19.1", "requirements.txt")
