"""Markers and profiles shared by the test suite.

`corpus`: the robustness run over the real code of pinned PyPI wheels (tests/test_corpus.py). It downloads
wheels and takes minutes, so it is deselected unless asked for: `pytest --corpus`, `PFT_CORPUS=1` or
`pytest -m corpus`.

Hypothesis runs the `ci` profile (derandomized, bounded, no example database) unless HYPOTHESIS_PROFILE
names another one: `dev` searches longer with random seeds.
"""
from __future__ import annotations

import os

import pytest

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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--corpus", action="store_true", help="also run the corpus tests (marker `corpus`)")
    parser.addoption("--fixrun", action="store_true", help="also run the fix scripts (marker `fixrun`)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "corpus: robustness over pinned PyPI wheels; opt in with --corpus, PFT_CORPUS=1 or -m corpus"
    )
    config.addinivalue_line(
        "markers",
        "fixrun: fix scripts run with real peft before and after --fix; opt in with --fixrun, PFT_FIXRUN=1, "
        "-m fixrun or -m full",
    )
    config.addinivalue_line("markers", "full: the slowest tier (fix runs, ...)")


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    opted_out = [m for m, on in (("corpus", corpus_enabled(config)), ("fixrun", fixrun_enabled(config))) if not on]
    if not opted_out:
        return
    kept, deselected = [], []
    for item in items:
        (deselected if any(item.get_closest_marker(m) for m in opted_out) else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
