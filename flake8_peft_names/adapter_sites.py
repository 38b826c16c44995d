"""Where a module passes adapter names to peft, transformers or diffusers, and which names."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Optional

from .module_facts import ModuleFacts, Scope, call_argument
from .peft_facts import (
    ADAPTER_LIBRARIES,
    CREATES_DEFAULT,
    METHODS_TAKING_NAMES,
    PEFT_CALLABLES,
    PEFT_FROM_PRETRAINED_POSITION,
    PEFT_MODEL_CLASSES,
    Api,
    NameArg,
)


@dataclass(frozen=True)
class NameUse:
    """One adapter name passed to one API. `node` is where it is reported; for a name that
    comes from a constant, default or config value, `literal` is where the string is written."""

    value: str
    node: ast.AST
    literal: Optional[ast.Constant]
    call: ast.Call
    api: Api
    scope: Scope
    implicit: bool = False  # the API's default name "default", not written in the code

    @property
    def defined_elsewhere(self) -> bool:
        return self.literal is not None and self.literal is not self.node


def adapter_name_uses(facts: ModuleFacts) -> list[NameUse]:
    """Every statically known adapter name in the module, in source order (memoised on `facts`)."""
    return facts.derived(_sorted_uses)


def _sorted_uses(facts: ModuleFacts) -> list[NameUse]:
    return sorted(_uses(facts), key=lambda u: (u.node.lineno, u.node.col_offset))


def _uses(facts: ModuleFacts):
    for call, scope in facts.calls:
        api, peft_class = _api_of(facts, call.func)
        if api is None:
            continue
        found = False
        for arg in api.args:
            expr = _argument(facts, call, api, arg, scope, peft_class)
            if expr is None:
                continue
            found = True
            for node, resolved in facts.resolve_many(expr, scope) if arg.many else _single(facts, expr, scope):
                yield NameUse(resolved.value, node, resolved.literal, call, api, scope)
        if not found and (api.name in CREATES_DEFAULT or (api.name == "from_pretrained" and peft_class)):
            yield NameUse("default", call, None, call, api, scope, implicit=True)


def _single(facts: ModuleFacts, expr: ast.expr, scope: Scope):
    resolved = facts.resolve(expr, scope)
    return [(expr, resolved)] if resolved is not None else []


def _api_of(facts: ModuleFacts, func: ast.expr) -> tuple[Optional[Api], bool]:
    """The API a call targets, and whether its receiver is a peft model class."""
    if isinstance(func, ast.Name):
        origin = facts.origin(func)
        name = origin.rsplit(".", 1)[-1] if origin else func.id
        if name in PEFT_CALLABLES and facts.is_adapter_library(func, name):
            return PEFT_CALLABLES[name], False
        return None, False
    if not isinstance(func, ast.Attribute):
        return None, False
    attr, owner = func.attr, func.value
    owner_origin = facts.origin(owner)
    if owner_origin is not None:
        library = owner_origin.split(".")[0]
        if isinstance(owner, ast.Name) and library not in ADAPTER_LIBRARIES:
            return None, False  # a function of another imported module: `othermod.load_adapter(...)`
        if attr in PEFT_CALLABLES and library == "peft":
            return PEFT_CALLABLES[attr], False
        if attr in METHODS_TAKING_NAMES:
            peft_class = library == "peft" and owner_origin.rsplit(".", 1)[-1] in PEFT_MODEL_CLASSES
            return METHODS_TAKING_NAMES[attr], peft_class
        return None, False
    if isinstance(owner, ast.Name) and owner.id in PEFT_MODEL_CLASSES and owner.id not in facts.local_defs:
        return METHODS_TAKING_NAMES.get(attr), attr == "from_pretrained"
    return METHODS_TAKING_NAMES.get(attr), False


def _argument(
    facts: ModuleFacts, call: ast.Call, api: Api, arg: NameArg, scope: Scope, peft_class: bool
) -> Optional[ast.expr]:
    position = arg.position
    if api.name == "add_adapter":
        # peft: add_adapter(name, config); transformers and diffusers: add_adapter(config, name)
        first = call_argument(call, 0)
        position = 0 if first is not None and facts.resolve(first, scope) is not None else 1
    elif api.name == "from_pretrained" and peft_class:
        position = PEFT_FROM_PRETRAINED_POSITION
    return call_argument(call, position, arg.keyword)
