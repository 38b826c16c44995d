"""The declared floors are the tested ones, and flake8's internals stay behind flake8_api.py."""
from __future__ import annotations

import ast
import configparser
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def declared() -> dict[str, Requirement]:
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg", encoding="utf-8")
    lines = setup["options"]["install_requires"].splitlines()
    lines += setup["options.extras_require"]["notebooks"].splitlines()
    requirements = [Requirement(line.strip()) for line in lines if line.strip()]
    return {r.name.lower(): r for r in requirements}


def pins(name: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / "requirements" / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", line
            found[requirement.name.lower()] = specifier.version
    return found


def test_every_dependency_declares_the_floor_that_floors_txt_pins() -> None:
    floors = pins("floors.txt")
    requirements = declared()
    assert set(requirements) == {"flake8", "libcst", "packaging", "tomli", "nbformat", "ipython"}
    for name, requirement in requirements.items():
        lower = [s.version for s in requirement.specifier if s.operator == ">="]
        assert lower == [floors[name]], (name, str(requirement.specifier), floors.get(name))


def test_flake8_majors_are_the_supported_ones_above_the_floor() -> None:
    from packaging.version import Version

    floor = Version(pins("floors.txt")["flake8"])
    lines = [line for line in (ROOT / "requirements" / "flake8-majors.txt").read_text().splitlines() if line[:1] != "#"]
    versions = [Version(line.split("==")[1]) for line in lines if line.strip()]
    assert [v.major for v in versions] == [5, 6, 7]
    assert all(v >= floor for v in versions)


def test_only_flake8_api_imports_flake8() -> None:
    importers = []
    for path in sorted((ROOT / "flake8_peft_names").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            if any(n == "flake8" or n.startswith("flake8.") for n in names):
                importers.append(path.relative_to(ROOT).as_posix())
    assert sorted(set(importers)) == ["flake8_peft_names/flake8_api.py"]
