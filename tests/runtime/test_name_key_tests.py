"""Runtime proof of PFT205 against the installed peft: a key test that looks for an adapter name as a substring.

The tiny model (experiment.py) gets two adapters, `ad` and `adapter`: `ad` is a substring of the other name and
of the module `head`. The rule's own example (an old `get_peft_model_state_dict` copied into a project) and its
`use_instead` are executed; the test the rule's fix shows is evaluated on every key.
"""

from __future__ import annotations

import ast
from typing import Callable

import peft
import pytest
import torch
from packaging.version import Version
from peft import get_peft_model, get_peft_model_state_dict
from torch import nn

from flake8_peft_names.engine import check_tree
from flake8_peft_names.rule import Finding
from flake8_peft_names.rules.name_tests import NAME_TEST, NAME_TEST_RULES
from flake8_peft_names.settings import build_settings
from .experiment import ConfigFactory, adapter_tensors, ia3, lora, make_tiny_model, randomise

INSTALLED = frozenset({Version(peft.__version__)})
NAME, OTHER = "ad", "adapter"  # noqa: PFT106 (names that overlap on purpose: the hazard PFT205 is about)

pytestmark = pytest.mark.filterwarnings("ignore")


def two_adapters(config: ConfigFactory) -> nn.Module:
    model = get_peft_model(make_tiny_model(), config(), adapter_name=NAME)
    model.add_adapter(OTHER, config())  # noqa: PFT106
    randomise(model, NAME, seed=1)
    randomise(model, OTHER, seed=2)
    return model


def vendored(source: str) -> Callable[..., dict[str, torch.Tensor]]:
    namespace: dict = {}
    exec(compile(source, "<example>", "exec"), namespace)
    return namespace["get_peft_model_state_dict"]


def example_finding() -> Finding:
    source = NAME_TEST.example
    found = check_tree(ast.parse(source), source.splitlines(True), build_settings())
    (finding,) = [f for f in found if f.code == NAME_TEST.code]
    return finding


def holds(values: list[torch.Tensor], tensors: dict[str, torch.Tensor]) -> int:
    """How many of `tensors` are among `values` (equal values: the saved copies are the same tensors)."""
    return sum(any(v.shape == t.shape and torch.equal(v, t) for v in values) for t in tensors.values())


# ---------------------------------------------------------------------------------------------
# The hazard's effect


def others_matched() -> bool:
    """The example's copy of `get_peft_model_state_dict` for `ad` takes `adapter`'s 4 LoRA tensors too, under
    keys its bare `replace` mangles (`lora_Aapter`)."""
    model = two_adapters(lora())
    state = vendored(NAME_TEST.example)(model, adapter_name=NAME)
    values = list(state.values())
    return (
        len(state) == 8
        and holds(values, adapter_tensors(model, NAME)) == 4
        and holds(values, adapter_tensors(model, OTHER)) == 4
        and "base_model.model.q_proj.lora_Aapter.weight" in state
    )


MEASUREMENTS = {("substring-adapter-key-test", "others-matched"): others_matched}
EFFECTS = [(h.key, e) for rule in NAME_TEST_RULES for h in rule.hazards for e in h.effects]


def test_every_effect_is_measured() -> None:
    assert {(key, effect.outcome) for key, effect in EFFECTS} == set(MEASUREMENTS)


@pytest.mark.parametrize("key, effect", EFFECTS, ids=[f"{k}:{e.outcome}" for k, e in EFFECTS])
def test_effect_happens_exactly_in_its_versions(key, effect) -> None:
    assert MEASUREMENTS[(key, effect.outcome)]() == effect.affected.hits(INSTALLED)


# ---------------------------------------------------------------------------------------------
# The replacements select exactly one adapter


def test_use_instead_returns_the_adapters_own_tensors() -> None:
    """The dot-delimited copy returns `ad`'s 4 LoRA tensors under PEFT's checkpoint keys, none of `adapter`'s: what
    peft >= 0.18 saves (peft < 0.18 has the bare test itself: PFT106's overlapping-names hazard)."""
    model = two_adapters(lora())
    state = vendored(NAME_TEST.use_instead)(model, adapter_name=NAME)
    own = adapter_tensors(model, NAME)
    assert set(state) == set(own) and len(state) == 4
    assert all(torch.equal(state[k], own[k]) for k in state)
    assert holds(list(state.values()), adapter_tensors(model, OTHER)) == 0
    if Version(peft.__version__) >= Version("0.18"):
        expected = get_peft_model_state_dict(model, adapter_name=NAME)
        assert set(expected) == set(state) and all(torch.equal(state[k], expected[k]) for k in state)


@pytest.mark.parametrize("config", [lora(), ia3()], ids=["lora", "ia3"])
def test_the_shown_test_picks_exactly_the_adapters_keys(config: ConfigFactory) -> None:
    """On every key of the model, the fix's component test holds for `ad`'s own keys only (IA3 keeps the name as
    the last component: `q_proj.ia3_l.ad`); the bare test also holds for `adapter`'s keys and for `head`'s."""
    model = two_adapters(config)
    keys = list(model.state_dict())
    own = {k for k in keys if NAME in k.split(".")}
    shown = example_finding().fix.intent.replacement  # type: ignore[union-attr]
    picked = {k for k in keys if eval(shown, {"k": k, "adapter_name": NAME})}
    bare = {k for k in keys if NAME in k}
    assert picked == own and len(own) == len(adapter_tensors(model, NAME))
    assert {k for k in bare - own if OTHER in k.split(".")} and {"base_model.model.head.weight"} <= bare - own


# ---------------------------------------------------------------------------------------------
# Measured beyond the hazard: peft's own hotswap (copied in tests/fixtures/state_dicts/negative_key_sets.py)


def test_peft_hotswap_bare_test_zeroes_the_other_adapter() -> None:
    """`hotswap_adapter_from_state_dict` collects the keys to zero with `adapter_name in k`: measured in peft
    0.17.1, 0.20.0 and 0.21.2, hot-swapping `ad` with a complete new state dict zeroes every LoRA tensor of
    `adapter`."""
    hotswap = pytest.importorskip("peft.utils.hotswap")
    model = two_adapters(lora())
    new = {k: torch.randn(v.shape) for k, v in model.state_dict().items() if ".lora_" in k and f".{NAME}." in k}
    hotswap.hotswap_adapter_from_state_dict(model, new, NAME, model.peft_config[NAME])
    other = adapter_tensors(model, OTHER)
    assert len(other) == 4 and all(not t.any() for t in other.values())
