"""Which modules the state-dict rules apply to: ones that use peft, not another LoRA library."""

from __future__ import annotations

import ast

from ..adapter_sites import adapter_name_uses
from ..module_facts import ModuleFacts

# Libraries with their own LoRA, where filtering `lora_` keys is the documented way.
NON_PEFT_LORA_LIBRARIES = frozenset({"loralib", "minlora", "lora_diffusion", "lora_pytorch"})


def peft_in_use(facts: ModuleFacts) -> bool:
    """The module builds or loads PEFT models (imports peft, names a PEFT config, or passes adapter names)."""
    return _imports_peft(facts) or bool(facts.config_methods) or bool(adapter_name_uses(facts))


def imports_peft(facts: ModuleFacts) -> bool:
    """The module imports peft, or names a PEFT config class (a notebook cell may import it elsewhere)."""
    return _imports_peft(facts) or bool(facts.config_methods)


def _imports_peft(facts: ModuleFacts) -> bool:
    return any(origin.split(".")[0] == "peft" for origin in facts.imports.values())


def skipped_module(facts: ModuleFacts) -> bool:
    """Modules where hand-written LoRA state dicts are no PEFT mistake: a vendored copy of PEFT's own
    save/load functions, or a module that uses another LoRA library (loralib, its own LoRA layers)."""
    return vendors_peft(facts) or foreign_lora(facts)


def vendors_peft(facts: ModuleFacts) -> bool:
    """The module defines its own copy of PEFT's `get_peft_model_state_dict`/`set_peft_model_state_dict`."""
    return bool({"get_peft_model_state_dict", "set_peft_model_state_dict"} & facts.local_defs)


def foreign_lora(facts: ModuleFacts) -> bool:
    """The module uses another LoRA library (loralib, its own LoRA layers), not peft."""
    return not _imports_peft(facts) and (
        any(origin.split(".")[0] in NON_PEFT_LORA_LIBRARIES for origin in facts.imports.values())
        or any("lora" in name.lower() for name in facts.classes)
    )


def has_modules_to_save(facts: ModuleFacts) -> bool:
    """A config in the module sets `modules_to_save` (not to None), or names a task type that adds them."""
    return bool(facts.modules_to_save) or facts.mentions_modules_to_save


def refuses_modules_to_save(facts: ModuleFacts) -> bool:
    """The module raises when a config has `modules_to_save` (`if config.modules_to_save: raise ...`), so a
    pre-filter without them never meets a model that has them. Walks the tree: only asked about a finding."""
    return facts.derived(_refuses_modules_to_save)


def _refuses_modules_to_save(facts: ModuleFacts) -> bool:
    return any(
        isinstance(node, ast.If)
        and _has_modules_to_save(node.test)
        and any(isinstance(statement, ast.Raise) for statement in node.body)
        for node in ast.walk(facts.tree)
    )


def _has_modules_to_save(test: ast.expr) -> bool:
    """`config.modules_to_save`, `config.modules_to_save is not None`, and either inside `or`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return any(_has_modules_to_save(value) for value in test.values)
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.IsNot)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        test = test.left
    return isinstance(test, ast.Attribute) and test.attr == "modules_to_save"
