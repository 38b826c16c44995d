"""The checker reads Python 3.12, 3.13 and 3.14 syntax without raising and finds the hazards written inside it.

Real interpreters of each version: pyodide (CPython compiled to WebAssembly) from npm, run by node
(tests/pyodide_run.mjs), pinned in requirements/pyodide.txt and installed by scripts/setup-envs.sh into
.venvs/pyodide. Each runs tests/new_syntax_probe.py: read_source + check_tree, and the flake8 plugin's run(),
over one sample per syntax feature, each with a PFT102 hazard inside the new construct. The host Python (3.11
in CI) runs the same probe in-process: a sample newer than it is a syntax error there, and its twin, the same
code in older syntax at the same positions, gives the same findings. Missing node or pyodide skips the
interpreter's tests, or fails them under PFT_REQUIRE_RUNTIME=1 (scripts/test-all.sh).
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import flake8
import packaging
import pytest

from tests.new_syntax_probe import probe

pytestmark = pytest.mark.full  # tier (tests/conftest.py)

ROOT = Path(__file__).resolve().parent.parent
PINS = ROOT / "requirements" / "pyodide.txt"
PYODIDE = ROOT / ".venvs" / "pyodide" / "node_modules"
REQUIRED = os.environ.get("PFT_REQUIRE_RUNTIME") == "1"
Version = tuple[int, int]
Finding = tuple[str, int, int]  # code, line, 0-based column, as check_tree and Plugin.run() give them


@dataclass(frozen=True)
class Sample:
    since: Version  # the first Python that parses it
    source: str
    findings: tuple[Finding, ...]
    twin: Optional[str] = None  # the same code in older syntax, same positions of the findings


# A column is that of the string literal passed as the adapter name; a name bound to such a string is reported
# where it is passed and where the string is written.
SAMPLES: dict[str, Sample] = {
    "match.py": Sample((3, 10), '''\
from peft import get_peft_model

match kind:
    case "lora" | "ia3":
        model = get_peft_model(base, config, adapter_name="lora")
    case {"name": str(name)} if name:
        model = get_peft_model(base, config, adapter_name=name)
    case [*_, Config(adapter=NAME)]:
        model = get_peft_model(base, config, adapter_name=f"{NAME}")
''', (("PFT102", 5, 58),)),
    "pep695_generics.py": Sample((3, 12), '''\
from peft import get_peft_model


def wrap[T](base: T, config) -> T:
    return get_peft_model(base, config, adapter_name="lora")


class Holder[M: object, *Ts, **P]:
    def build[C](self, base: M, config: C) -> M:
        return get_peft_model(base, config, adapter_name="lora")
''', (("PFT102", 5, 53), ("PFT102", 10, 57)), twin='''\
from peft import get_peft_model


def wrap(base: T, config) -> T:
    return get_peft_model(base, config, adapter_name="lora")


class Holder:
    def build(self, base: M, config: C) -> M:
        return get_peft_model(base, config, adapter_name="lora")
'''),
    "pep695_type_alias.py": Sample((3, 12), '''\
from peft import get_peft_model

type Pair[T] = tuple[T, T]
type Name = str
NAME: Name = "lora"
model = get_peft_model(base, config, adapter_name=NAME)
type LORA = "lora"  # a TypeAliasType, no str: not an adapter name
other = get_peft_model(base, config, adapter_name=LORA)
''', (("PFT102", 5, 13), ("PFT102", 6, 50)), twin='''\
from peft import get_peft_model

Pair = tuple[T, T]
Name = str
NAME: Name = "lora"
model = get_peft_model(base, config, adapter_name=NAME)
LORA = object()
other = get_peft_model(base, config, adapter_name=LORA)
'''),
    "pep701_fstrings.py": Sample((3, 12), '''\
from peft import get_peft_model

print(f"{get_peft_model(base, config, adapter_name="lora")!r}")
print(f"{f"{get_peft_model(base, config, adapter_name=NAME)}"}")
print(f"{
    get_peft_model(base, config, adapter_name="lora")  # comments too, since 3.12
}")
NAME = "lora"
''', (("PFT102", 3, 51), ("PFT102", 4, 54), ("PFT102", 6, 46), ("PFT102", 8, 7)), twin='''\
from peft import get_peft_model

print(f'{get_peft_model(base, config, adapter_name="lora")!r}')
print(f'{f"{get_peft_model(base, config, adapter_name=NAME)}"}')
print(f"""{
    get_peft_model(base, config, adapter_name="lora")
}""")
NAME = "lora"
'''),
    "pep696_type_param_defaults.py": Sample((3, 13), '''\
from peft import get_peft_model


class Trainer[M = object, *Ts = *tuple[int, ...], **P = [int]]:
    def build[C = dict](self, base: M, config: C) -> M:
        return get_peft_model(base, config, adapter_name="lora")
''', (("PFT102", 6, 57),), twin='''\
from peft import get_peft_model


class Trainer:
    def build(self, base: M, config: C) -> M:
        return get_peft_model(base, config, adapter_name="lora")
'''),
    "pep758_except.py": Sample((3, 14), '''\
from peft import get_peft_model

try:
    model = build()
except ValueError, TypeError:
    model = get_peft_model(base, config, adapter_name="lora")
try:
    model = build()
except* OSError, RuntimeError:
    model = get_peft_model(base, config, adapter_name="lora")
''', (("PFT102", 6, 54), ("PFT102", 10, 54)), twin='''\
from peft import get_peft_model

try:
    model = build()
except (ValueError, TypeError):
    model = get_peft_model(base, config, adapter_name="lora")
try:
    model = build()
except* (OSError, RuntimeError):
    model = get_peft_model(base, config, adapter_name="lora")
'''),
    "pep750_tstrings.py": Sample((3, 14), '''\
from peft import get_peft_model

template = t"{get_peft_model(base, config, adapter_name="lora")!r:>{width}}"
model = get_peft_model(base, config, adapter_name=t"lora")  # a Template, no str: not an adapter name
label = t"{NAME!s}" + t" loaded"
NAME = "lora"
model = get_peft_model(base, config, adapter_name=NAME)
''', (("PFT102", 3, 56), ("PFT102", 6, 7), ("PFT102", 7, 50)), twin='''\
from peft import get_peft_model

template = f'{get_peft_model(base, config, adapter_name="lora")!r:>{width}}'
model = get_peft_model(base, config, adapter_name=object())
label = f"{NAME!s}" + f" loaded"
NAME = "lora"
model = get_peft_model(base, config, adapter_name=NAME)
'''),
}


def _pins() -> dict[Version, str]:
    """requirements/pyodide.txt: Python minor version -> pyodide npm version."""
    pins = {}
    for line in PINS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            python, version = line.split()
            major, minor = python.split(".")
            pins[int(major), int(minor)] = version
    return pins


PINS_BY_PYTHON = _pins()
PYTHONS = sorted(PINS_BY_PYTHON)
PYTHON_IDS = [f"{major}.{minor}" for major, minor in PYTHONS]


def _package(python: Version) -> Path:
    """Where scripts/setup-envs.sh installs the pinned pyodide of this Python: the npm alias pyodide-3.x."""
    return PYODIDE / f"pyodide-{python[0]}.{python[1]}"


def _missing(python: Version) -> Optional[str]:
    """Why the pinned pyodide of this Python cannot run here, if it cannot."""
    if shutil.which("node") is None:
        return "node is not installed"
    metadata, want = _package(python) / "package.json", PINS_BY_PYTHON[python]
    if not metadata.is_file():
        return f"pyodide {want} is not installed in {metadata.parent}"
    have = json.loads(metadata.read_text())["version"]
    return None if have == want else f"pyodide {have} is installed in {metadata.parent}, not the pinned {want}"


@functools.lru_cache(maxsize=None)
def _run_pyodide(python: Version) -> dict[str, Any]:
    """The probe's output in this Python's pyodide: one interpreter start for every sample."""
    missing = _missing(python)
    if missing:
        reason = f"{missing}; create it with `bash scripts/setup-envs.sh`"
        if REQUIRED:
            pytest.fail(f"PFT_REQUIRE_RUNTIME=1 but {reason}", pytrace=False)
        pytest.skip(f"pyodide skipped: {reason} (set PFT_REQUIRE_RUNTIME=1 to fail instead)")
    # packaging and flake8 (the plugin imports flake8's option handling) are pure Python: read from the host's
    # site-packages. Only the checker's modules are imported there, never a sample.
    sites = sorted({str(Path(module.__file__).resolve().parent.parent) for module in (packaging, flake8)})
    with tempfile.TemporaryDirectory() as folder:
        request = Path(folder) / "samples.json"
        request.write_text(json.dumps({name: sample.source for name, sample in SAMPLES.items()}))
        command = ["node", str(ROOT / "tests" / "pyodide_run.mjs"), "--mount", folder, "--path", str(ROOT)]
        command += [arg for site in sites for arg in ("--path", site)]
        command += [str(_package(python)), str(ROOT / "tests" / "new_syntax_probe.py"), str(request)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def _assert_result(result: dict[str, Any], sample: Sample, version: Version) -> None:
    """Before `sample.since`: a syntax error. From it on: exactly the sample's findings from both paths."""
    assert "raised" not in result, result["raised"]
    if version < sample.since:
        assert result.get("error", "").startswith("syntax error"), result
        return
    assert "error" not in result, result["error"]
    expected = [list(finding) for finding in sample.findings]
    assert result == {"findings": expected, "plugin": expected}  # no PFT000, nothing more, nothing less


@pytest.mark.parametrize("python", PYTHONS, ids=PYTHON_IDS)
def test_the_pinned_pyodide_is_that_python(python: Version) -> None:
    assert tuple(_run_pyodide(python)["version"][:2]) == python


@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.parametrize("python", PYTHONS, ids=PYTHON_IDS)
def test_pyodide_checks_the_sample(python: Version, name: str) -> None:
    output = _run_pyodide(python)
    _assert_result(output["results"][name], SAMPLES[name], tuple(output["version"][:2]))


@pytest.mark.parametrize("name", SAMPLES)
def test_the_host_python_checks_the_sample_or_rejects_its_syntax(name: str) -> None:
    sample = SAMPLES[name]
    _assert_result(probe({name: sample.source})["results"][name], sample, sys.version_info[:2])
    if sample.twin is not None:  # older syntax, same findings: the expected positions hold in any Python
        older = Sample((3, 9), sample.twin, sample.findings)
        _assert_result(probe({name: sample.twin})["results"][name], older, sys.version_info[:2])
