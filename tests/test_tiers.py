"""The tiers of tests/conftest.py: every test has one, and a tier-0 test cannot start a process."""
from __future__ import annotations

import importlib.metadata
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TIERS, TierError
from tests.inprocess import findings


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


# ---------------------------------------------------------------------------------------------------
# `peft_installed`: the tests of `peft-version = installed` depend on no installed peft

SOURCE = 'from peft import get_peft_model\n\nmodel = get_peft_model(base_model, config, adapter_name="lora")\n'
PEFT_VERSION = "import importlib.metadata as m; print(m.version('peft'))"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        pytest.param("0.17.1", [(3, 57, "PFT102")], marks=pytest.mark.peft_installed("0.17.1")),
        pytest.param("0.21.2", [], marks=pytest.mark.peft_installed("0.21.2")),
    ],
)
def test_peft_installed_decides_what_installed_means_in_process(version: str, expected: list) -> None:
    assert importlib.metadata.version("peft") == version
    assert findings(SOURCE, options={"peft-version": "installed"}) == expected


@pytest.mark.prepush
@pytest.mark.peft_installed("0.17.1")  # not the newest: whatever is installed in the test environment
def test_peft_installed_holds_in_the_processes_a_test_starts() -> None:
    result = subprocess.run([sys.executable, "-c", PEFT_VERSION], capture_output=True, text=True, timeout=60)
    assert result.stdout == "0.17.1\n", result.stderr
