"""The tiers of tests/conftest.py: every test has one, and a tier-0 test cannot start a process."""
from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TIERS, TierError


def test_every_collected_test_has_exactly_one_tier(request: pytest.FixtureRequest) -> None:
    for item in request.session.items:
        tiers = [m.name for m in item.iter_markers() if m.name in TIERS]
        assert len(set(tiers)) == 1, (item.nodeid, tiers)
        if "runtime" in Path(str(item.path)).parts or item.get_closest_marker("corpus"):
            assert tiers[0] == "full", item.nodeid
    assert request.node.get_closest_marker("fast")  # this module has no marker: the default tier


@pytest.mark.parametrize(
    "start",
    [
        lambda: subprocess.run([sys.executable, "-c", "pass"], check=True),
        lambda: subprocess.Popen([sys.executable, "-c", "pass"]).wait(),
        lambda: os.system("true"),
        lambda: os.fork(),
        lambda: multiprocessing.get_context("fork").Process(target=print).start(),
        lambda: multiprocessing.get_context("spawn").Process(target=print).start(),
    ],
    ids=["subprocess.run", "Popen", "os.system", "os.fork", "multiprocessing-fork", "multiprocessing-spawn"],
)
def test_a_tier_zero_test_cannot_start_a_process(start) -> None:
    with pytest.raises(TierError, match="tier-0"):
        start()


@pytest.mark.prepush
def test_a_prepush_test_may_start_a_process() -> None:
    assert subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True).stdout == "42\n"
