"""PFT205: a parameter key tested for an adapter name as a substring instead of a whole key component."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from .. import peft_facts
from ..module_facts import ModuleFacts
from ..rule import Applicability, Finding, Fix, ReplaceExpression, Rule, finding_at, hitting
from ..settings import Settings
from ..state_dict.context import foreign_lora, imports_peft, peft_in_use, vendors_peft
from ..state_dict.name_tests import NameTest, substring_name_tests


def _check(facts: ModuleFacts, settings: Settings) -> Iterator[Finding]:
    if not hitting(NAME_TEST.hazards, settings.supported) or not (facts.comprehensions or facts.loops):
        return
    if foreign_lora(facts):
        return
    own_peft = vendors_peft(facts) or peft_in_use(facts)
    if not own_peft and facts.across is None:
        return
    for test in substring_name_tests(facts):
        if not (own_peft or (test.via is not None and any(imports_peft(m) for m in test.via.modules))):
            continue  # no peft here (nor, with the project pass, in the modules that tell what the keys are)
        replacement = _component_test(test)
        fix = None
        if test.bare:  # the needle is the name alone: the component test replaces the whole test
            fix = Fix(Applicability.DISPLAY_ONLY, ReplaceExpression(replacement), f"test it with {replacement}")
        values = {"adapter": test.adapter, "relation": test.relation, "replacement": replacement}
        found = finding_at(NAME_TEST, test.node, values, fix)
        yield found if test.via is None else replace(found, message=f"{found.message}; {test.via.note}")


def _component_test(test: NameTest) -> str:
    """PEFT's own test of a key for one adapter: the name between dots, or at the end after a dot."""
    name, key = test.adapter, test.key
    found = f'f".{{{name}}}." in {key} or {key}.endswith(f".{{{name}}}")'
    return found if test.holds_if_found else f"not ({found})"


NAME_TEST = Rule(
    "PFT205",
    "adapter-name-substring-key-test",
    summary="a parameter key tested for an adapter name as a substring, not as a whole key component",
    message=(
        "key tested for {adapter} as a substring: it also matches the keys of other adapters and modules whose "
        "names {relation} it; test the whole component, as PEFT does: {replacement}"
    ),
    what_it_does=(
        "Finds key tests `adapter_name in k` and `k.find(adapter_name) != -1` (or `not in`, `== -1`) whose "
        "needle holds a variable named like an adapter name (`adapter_name`, `self.adapter_name`, `adapter`) "
        'without a dot on each side of it (`adapter_name`, `f"{adapter_name}"`, `f".{adapter_name}"`, '
        '`f"lora_A.{adapter_name}"`), on the keys of a model\'s `state_dict()`/`named_parameters()` or of a dict '
        'filtered from them, or of any dict the same condition tests for a PEFT marker (`"lora_" in k and '
        "adapter_name in k`). Also inside a project's own copy of an old `get_peft_model_state_dict`, which "
        "PFT201 leaves alone. Not reported: the name between dots (`f\".{adapter_name}.\" in k`), at the end "
        "after a dot (`k.endswith(f\".{adapter_name}\")`), among the split components "
        '(`adapter_name in k.split(".")`), a needle that is no adapter name (`"lora_" in k`, `prefix in k`), '
        "text next to the name that is not known statically, and dicts loaded from PEFT-format files "
        "(`get_peft_model_state_dict`, `adapter_model.*`: their keys hold no adapter name)."
    ),
    why_bad=(
        "PEFT writes the adapter name into a key as one whole component: `q_proj.lora_A.<name>.weight`, "
        "`q_proj.ia3_l.<name>`. A substring test also holds for every other adapter whose name contains the "
        "name, and for modules whose path does: on a tiny model with adapters `ad` and `adapter` (peft 0.17.1, "
        '0.20.0 and 0.21.2), `"lora_" in k and adapter_name in k` for `ad` takes 8 LoRA tensors, 4 of them '
        "`adapter`'s (whose keys the old `k.replace(f\".{adapter_name}\", \"\")` then mangles into "
        "`lora_Aapter`), and `adapter_name in k` alone also takes the base `head.weight` and `head.bias`. Saved, "
        "loaded, deleted or zeroed by such a test, one adapter's checkpoint carries or loses another's tensors: "
        "peft's own `hotswap_adapter_from_state_dict` (measured in the same versions) zeroes every LoRA tensor "
        "of `adapter` when `ad` is hot-swapped. peft 0.17.1's `get_peft_model_state_dict` has the example's very "
        'test; 0.20.0 and later test `f".{adapter_name}." in k or k.endswith(f".{adapter_name}")`.'
    ),
    example=(
        "def get_peft_model_state_dict(model, state_dict=None, adapter_name=\"default\"):\n"
        "    if state_dict is None:\n"
        "        state_dict = model.state_dict()\n"
        '    to_return = {k: v for k, v in state_dict.items() if "lora_" in k and adapter_name in k}  '
        "# expect: PFT205@74\n"
        '    return {k.replace(f".{adapter_name}", ""): v for k, v in to_return.items()}\n'
    ),
    use_instead=(
        "def get_peft_model_state_dict(model, state_dict=None, adapter_name=\"default\"):\n"
        "    if state_dict is None:\n"
        "        state_dict = model.state_dict()\n"
        '    to_return = {k: v for k, v in state_dict.items() if "lora_" in k and f".{adapter_name}." in k}\n'
        '    return {k.replace(f".{adapter_name}.", "."): v for k, v in to_return.items()}\n'
    ),
    fix_applicability=Applicability.DISPLAY_ONLY,
    fix_safety=(
        'Display only: `f".{adapter_name}." in k or k.endswith(f".{adapter_name}")` is shown for a needle that '
        "is the name alone, and only described for one with more text around the name. It selects other keys "
        "than the substring test did (no other adapter's, and no module's whose path holds the name), and such "
        "tests often sit in vendored copies of PEFT's own functions, so the code is never changed automatically."
    ),
    hazards=(peft_facts.SUBSTRING_ADAPTER_KEY_TEST,),
    check=_check,
)

NAME_TEST_RULES = (NAME_TEST,)
