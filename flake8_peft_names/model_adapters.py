"""Which adapter a model has, as far as the module says: the one lookup the state-dict fixes use.

Kept to one function so that richer model facts (per-model configs, names over time) can replace it."""
from __future__ import annotations

import ast
from typing import Optional

from .adapter_sites import NameUse, adapter_name_uses
from .module_facts import ModuleFacts
from .peft_facts import PEFT_MODEL_CLASSES

MODULE_FUNCTIONS = ("get_peft_model", "inject_adapter_in_model")  # `peft.get_peft_model(...)` is no method call
CREATING = ("get_peft_model", "PeftModel", "from_pretrained", "add_adapter", "load_adapter", "inject_adapter_in_model")


def adapter_of(facts: ModuleFacts, model: str) -> Optional[NameUse]:
    """The one adapter name that the module gives the model written `model` (a `get_peft_model` or
    `PeftModel` result assigned to it, or `model.add_adapter/load_adapter`), None when it gives none or
    several. The use says whether the name is implicit (`default`) and where it is written."""
    found = facts.derived(_adapters_by_model).get(model, {})
    return next(iter(found.values())) if len(found) == 1 else None


def _adapters_by_model(facts: ModuleFacts) -> dict[str, dict[str, NameUse]]:
    """model as written -> its adapter names (the first use of each), from the creating calls."""
    found: dict[str, dict[str, NameUse]] = {}
    for use in adapter_name_uses(facts):
        if use.api.name in CREATING:
            holder = _holder(facts, use.call)
            if holder is not None:
                found.setdefault(holder, {}).setdefault(use.value, use)
    return found


def _holder(facts: ModuleFacts, call: ast.Call) -> Optional[str]:
    """The model a creating call gives an adapter: the receiver of a method, the target of a factory."""
    func = call.func
    factory = isinstance(func, ast.Name) or (isinstance(func, ast.Attribute) and func.attr in MODULE_FUNCTIONS) or (
        isinstance(func, ast.Attribute)
        and (func.attr == "from_pretrained" or func.attr in PEFT_MODEL_CLASSES)
        and isinstance(func.value, (ast.Name, ast.Attribute))
        and (ast.unparse(func.value).rsplit(".", 1)[-1] in PEFT_MODEL_CLASSES or func.attr in PEFT_MODEL_CLASSES
             or ast.unparse(func.value).rsplit(".", 1)[-1].startswith("AutoPeftModel"))
    )
    if not factory and isinstance(func, ast.Attribute):
        return ast.unparse(func.value)
    for target in facts.call_targets.get(id(call), ()):
        return ast.unparse(target)
    return None


def adapter_argument(facts: ModuleFacts, use: NameUse) -> str:
    """`, adapter_name=...` for a peft state-dict function: nothing for `default`, else the name as the
    module writes it (its module-level constant, or the literal)."""
    if use.value == "default":
        return ""
    node = use.node
    if isinstance(node, ast.Name) and use.literal is not None and use.scope is facts.module_scope:
        return f", adapter_name={ast.unparse(node)}"
    plain = '"' not in use.value and "\\" not in use.value and use.value.isprintable()
    return f", adapter_name={chr(34) + use.value + chr(34) if plain else repr(use.value)}"
