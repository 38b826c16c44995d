"""A rule owns its hazards: every measured hazard of peft_facts is reported by exactly one rule, which holds
the Hazard object itself, and each rule code is written once, in its rule's definition."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from flake8_peft_names import peft_facts
from flake8_peft_names.name_hazards import NameContext, problems
from flake8_peft_names.peft_facts import (
    HAZARDS,
    METHODS_BY_TYPE,
    METHODS_TAKING_NAMES,
    STRUCTURAL_KEY_COMPONENTS,
    Hazard,
)
from flake8_peft_names.rules import RULES, RULES_BY_HAZARD
from flake8_peft_names.rules.adapter_names import REUSED

PACKAGE = Path(peft_facts.__file__).resolve().parent
DEFINED = [value for value in vars(peft_facts).values() if isinstance(value, Hazard)]


def test_hazards_registry_holds_every_hazard_once_under_its_key() -> None:
    assert {id(h) for h in DEFINED} == {id(h) for h in HAZARDS.values()}
    assert all(HAZARDS[h.key] is h for h in DEFINED)
    assert all(h.effects for h in DEFINED)


def test_every_hazard_is_owned_by_exactly_one_rule() -> None:
    owners = {key: [rule.code for rule in RULES if hazard in rule.hazards] for key, hazard in HAZARDS.items()}
    assert all(len(codes) == 1 for codes in owners.values()), owners
    assert all(rule.hazards and len(set(rule.hazards)) == len(rule.hazards) for rule in RULES)
    assert all(h in HAZARDS.values() for rule in RULES for h in rule.hazards)  # no hazard outside peft_facts
    assert set(RULES_BY_HAZARD) == set(HAZARDS.values())


def test_reusing_a_name_is_reported_by_the_reuse_rule() -> None:
    created = {api.creates for api in METHODS_TAKING_NAMES.values() if api.creates is not None}
    assert created == set(REUSED.hazards)


def test_every_name_problem_belongs_to_a_rule() -> None:
    lora = METHODS_BY_TYPE["LORA"]
    modules_to_save = frozenset({"head"})
    components = frozenset(STRUCTURAL_KEY_COMPONENTS | set(lora.param_names) | {"q_proj", "v_proj"} | modules_to_save)
    context = NameContext((lora, METHODS_BY_TYPE["IA3"]), components, modules_to_save)
    names = ["", "a.b", "train", "copy", "lora", "lora_x", "weight", "q_proj", "head", "x_head", "modules_to_save", "q"]
    found = {p.hazard for name in names for flag in (True, False) for p in problems(name, context, flag)}
    assert found and all(h in RULES_BY_HAZARD for h in found)


def _code_literals(path: Path) -> list[str]:
    """Rule codes written as whole string literals (PFT000, the internal error, is no rule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"PFT[1-9]\d\d", node.value)
    ]


def test_each_rule_code_is_written_once_in_the_package() -> None:
    literals = [code for path in sorted(PACKAGE.rglob("*.py")) for code in _code_literals(path)]
    assert sorted(literals) == sorted(rule.code for rule in RULES)


def test_the_facts_import_no_rule() -> None:
    """peft_facts <- name_hazards <- rules: the facts know nothing of the rules that report them."""
    for module, forbidden in (("peft_facts", {"rule", "rules", "name_hazards"}), ("rule", {"rules"})):
        tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
        imported = {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level
        }
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
        assert not imported & forbidden, (module, imported & forbidden)
