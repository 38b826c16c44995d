"""Which model a state-dict value belongs to: the one place a later phase of model facts replaces.

Today a model is known only by its source text at the use (the receiver of `.state_dict()`), and
whether a `PeftModel.from_pretrained(...)` value was loaded for inference.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Optional

from ..module_facts import ModuleFacts, Scope, called_name


@dataclass(frozen=True)
class ModelRef:
    """A model named in the code: its source text where the value was taken from it."""

    text: str
    verbatim: bool  # `text` is exactly the source as written (see `verbatim`)


def verbatim(node: ast.AST) -> bool:
    """`ast.unparse` gives the source back as written: one line, no string literal (whose quotes it may change)."""
    if getattr(node, "lineno", None) != getattr(node, "end_lineno", None):
        return False
    return not any(
        isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Constant) and isinstance(n.value, (str, bytes)))
        for n in ast.walk(node)
    )


def model_of(receiver: ast.expr) -> Optional[ModelRef]:
    """The model of `receiver.state_dict()`; none for `super().state_dict()` (a state_dict override)."""
    if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super":
        return None
    return ModelRef(ast.unparse(receiver), verbatim(receiver))


def loaded_for_inference(facts: ModuleFacts, model: ast.expr, scope: Scope) -> bool:
    """`model` is `PeftModel.from_pretrained(...)` (or an AutoPeftModel's) without `is_trainable=True`:
    nothing in it requires grad."""
    if isinstance(model, ast.Name):
        found = facts._lookup(model.id, scope)
        if found is None or len(found[0]) != 1:
            return False
        model = found[0][0][0]
    if not (
        isinstance(model, ast.Call)
        and isinstance(model.func, ast.Attribute)
        and model.func.attr == "from_pretrained"
        and len(model.args) <= 3  # (model, model_id, adapter_name): is_trainable is the 4th
    ):
        return False
    owner = called_name(model.func.value)
    if owner is None or not owner.startswith(("PeftModel", "AutoPeftModel")):
        return False
    for keyword in model.keywords:
        if keyword.arg is None:  # **kwargs may hold is_trainable=True
            return False
        if keyword.arg == "is_trainable" and not (
            isinstance(keyword.value, ast.Constant) and keyword.value.value is False
        ):
            return False
    return True
