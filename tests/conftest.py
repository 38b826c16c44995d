"""Markers, tiers and profiles shared by the test suite.

Tiers (README, "Development"); every test gets exactly one tier marker, here:

- `fast` (tier 0): in process, no subprocess, seconds. The default: a test lands here unless its module
  (`pytestmark = pytest.mark.prepush`) or the test itself says otherwise. A `fast` test that starts a
  process fails at once (`TierError`): mark it `prepush` or `full` instead.
- `prepush`: real flake8, the command, stdin, options, output formats, notebooks, editors, pre-commit, as
  subprocesses; one or two minutes.
- `full`: the runtime proofs (tests/runtime, all of them), newer Python syntax (pyodide), robustness and
  properties, and the corpus.

`pytest -m fast`, `pytest -m "fast or prepush"`, `pytest tests` (all but the corpus).

`corpus`: the robustness run over the real code of pinned PyPI wheels (tests/test_corpus.py, tier `full`).
It downloads wheels and takes minutes, so it is deselected unless asked for: `pytest --corpus`,
`PFT_CORPUS=1` or `pytest -m corpus`.

`peft_installed("X.Y.Z")`: peft X.Y.Z counts as installed for this test, in this process and in the
processes it starts (a `peft-X.Y.Z.dist-info` on a temporary folder put first on sys.path and PYTHONPATH),
whatever is really installed: `peft-version = installed` tests need no peft.

Hypothesis runs the `ci` profile (derandomized, bounded, no example database) unless HYPOTHESIS_PROFILE
names another one: `dev` searches longer with random seeds.
"""
from __future__ import annotations

import multiprocessing.util
import os
import re
import subprocess
from pathlib import Path
from typing import Optional

import pytest

# The suite's expectations assume the default peft range: without a configured `peft-version` the tool
# would take the range from the repository's own requirements/ (or the installed peft). Subprocesses
# (flake8, pre-commit, the server) inherit this; tests/test_project_range.py turns the lookup back on.
os.environ["FLAKE8_PEFT_NAMES_PROJECT_RANGE"] = "off"

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the runtime environments run tests/runtime only, without hypothesis
    settings = None

if settings is not None:
    SLOW = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
    settings.register_profile(
        "ci", derandomize=True, database=None, deadline=None, max_examples=100, suppress_health_check=SLOW,
        print_blob=True,
    )
    settings.register_profile("dev", deadline=None, max_examples=1000, suppress_health_check=SLOW, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TIERS = {
    "fast": "tier 0: in process, no subprocess (the default tier; a started process fails the test)",
    "prepush": "real flake8, the command, editors and pre-commit as subprocesses: about two minutes",
    "full": "runtime proofs, newer Python syntax, robustness, properties, corpus",
}
FULL_DIRECTORIES = ("runtime",)  # every test under tests/runtime/ is `full`
TESTS = Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--corpus", action="store_true", help="also run the corpus tests (marker `corpus`)")
    parser.addoption("--fixrun", action="store_true", help="also run the fix scripts (marker `fixrun`)")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config.addinivalue_line(
        "markers", "corpus: robustness over pinned PyPI wheels; opt in with --corpus, PFT_CORPUS=1 or -m corpus"
    )
    config.addinivalue_line(
        "markers", "peft_installed(version): peft `version` counts as installed, in process and in subprocesses"
    )
    config.addinivalue_line(
        "markers",
        "fixrun: fix scripts run with real peft before and after --fix (tier full); opt in with --fixrun, "
        "PFT_FIXRUN=1, -m fixrun or -m full",
    )


def fixrun_enabled(config: pytest.Config) -> bool:
    """`--fixrun`, `PFT_FIXRUN=1`, or a `-m` expression that names the marker or the `full` tier."""
    if config.getoption("--fixrun") or os.environ.get("PFT_FIXRUN", "") not in ("", "0"):
        return True
    expression = config.getoption("markexpr", "") or ""
    return any(m in expression and f"not {m}" not in expression for m in ("fixrun", "full"))


def corpus_enabled(config: pytest.Config) -> bool:
    """`--corpus`, `PFT_CORPUS=1`, or a `-m` expression that names the marker."""
    if config.getoption("--corpus") or os.environ.get("PFT_CORPUS", "") not in ("", "0"):
        return True
    expression = config.getoption("markexpr", "") or ""
    return "corpus" in expression and "not corpus" not in expression


MODULE_TIER = re.compile(r"^pytestmark = .*\bpytest\.mark\.(\w+)\b", re.MULTILINE)
SELECTION_WORDS = re.compile(r"[()]|\w+")


def _declared_tier(path: Path) -> Optional[str]:
    """The tier every test of this module or folder has, as far as the file says without importing it."""
    parts = path.resolve().relative_to(TESTS).parts if path.resolve().is_relative_to(TESTS) else ()
    if parts[:1] and parts[0] in FULL_DIRECTORIES:
        return "full"
    if path.suffix != ".py" or not path.name.startswith("test_"):
        return None
    for match in MODULE_TIER.finditer(path.read_text(encoding="utf-8")):
        if match.group(1) in TIERS:
            return match.group(1)
    return None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> Optional[bool]:
    """A `-m` made of tier names alone (`-m fast`, `-m "fast or prepush"`) does not even import the
    modules (and tests/runtime/) of the other tiers: hypothesmith, torch and the like cost seconds. The
    same tests would be deselected anyway; anything else (another marker, `-k`) collects as usual."""
    expression = config.getoption("markexpr", "") or ""
    words = SELECTION_WORDS.findall(expression)
    if not words or not set(words) <= {*TIERS, "and", "or", "not", "(", ")"}:
        return None
    tier = _declared_tier(collection_path)
    if tier is None:
        return None
    python = " ".join(w if w in ("and", "or", "not", "(", ")") else str(w == tier) for w in words)
    selected = eval(python, {"__builtins__": {}}, {})  # True/False, and, or, not, parentheses only
    return None if selected else True  # never False: that would overrule --ignore and the like


def tier_of(item: pytest.Item) -> str:
    """The test's own tier marker, else its module's, else `full` under tests/runtime/, else `fast`."""
    for marker in item.iter_markers():  # closest first: the test, its class, its module
        if marker.name in TIERS:
            return marker.name
    try:
        parts = Path(str(item.path)).resolve().relative_to(TESTS).parts
    except ValueError:
        parts = ()
    if parts[:1] and parts[0] in FULL_DIRECTORIES or item.get_closest_marker("corpus"):
        return "full"
    return "fast"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # First, before `-m` deselects: the default tier must be there to be selected.
    for item in items:
        tiers = {m.name for m in item.iter_markers() if m.name in TIERS}
        assert len(tiers) <= 1, f"{item.nodeid} has more than one tier marker: {sorted(tiers)}"
        if not tiers:
            item.add_marker(tier_of(item))
    opted_out = [m for m, on in (("corpus", corpus_enabled(config)), ("fixrun", fixrun_enabled(config))) if not on]
    if not opted_out:
        return
    kept, deselected = [], []
    for item in items:
        (deselected if any(item.get_closest_marker(m) for m in opted_out) else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


# ---------------------------------------------------------------------------------------------------
# Tier 0 starts no process


class TierError(RuntimeError):
    """A `fast` (tier-0) test tried to start a process."""


def _refuse(*args, **kwargs):
    raise TierError(
        "a tier-0 (`fast`) test started a process; mark the test or its module `pytest.mark.prepush` "
        "(or `full`), or use tests/inprocess.py"
    )


# Every way the standard library starts a process: subprocess (and asyncio's), os.system/popen (both
# subprocess or fork+exec), os.fork (multiprocessing's fork context), posix_spawn, and multiprocessing's
# spawn/forkserver (spawnv_passfds).
_SPAWNERS = [
    (subprocess.Popen, "_execute_child"),
    (os, "fork"),
    (os, "forkpty"),
    (os, "system"),
    (os, "posix_spawn"),
    (os, "posix_spawnp"),
    (multiprocessing.util, "spawnv_passfds"),
]


@pytest.fixture(autouse=True)
def _tier_zero_starts_no_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if tier_of(request.node) != "fast":
        return
    for owner, name in _SPAWNERS:
        if hasattr(owner, name):
            monkeypatch.setattr(owner, name, _refuse)


# ---------------------------------------------------------------------------------------------------
# A peft version that counts as installed, whatever is


@pytest.fixture(autouse=True)
def _peft_installed(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory) -> None:
    marker = request.node.get_closest_marker("peft_installed")
    if marker is None:
        return
    version = marker.args[0]
    folder = tmp_path_factory.mktemp("installed-peft")
    info = folder / f"peft-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: peft\nVersion: {version}\n", encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])))
