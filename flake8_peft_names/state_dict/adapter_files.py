"""Paths to PEFT's adapter checkpoint files (`adapter_model.safetensors`, `adapter_model.bin`)."""

from __future__ import annotations

import ast
from typing import Optional

from ..module_facts import UNKNOWN, ModuleFacts, Scope, called_name

MAX_PATH_PARTS = 8  # joins, f-strings and bindings followed to the file name of a path
ADAPTER_FILE_NAMES = ("adapter_model.safetensors", "adapter_model.bin")
_ADAPTER_CONSTANTS = {
    "peft": {"SAFETENSORS_WEIGHTS_NAME": "adapter_model.safetensors", "WEIGHTS_NAME": "adapter_model.bin"},
    "transformers": {
        "ADAPTER_SAFE_WEIGHTS_NAME": "adapter_model.safetensors",
        "ADAPTER_WEIGHTS_NAME": "adapter_model.bin",
    },
}


def adapter_file(facts: ModuleFacts, expr: ast.expr, scope: Scope, depth: int = 0) -> Optional[str]:
    """`adapter_model.safetensors` or `adapter_model.bin` when `expr` is a path to one."""
    if depth > MAX_PATH_PARTS:
        return None
    resolved = facts.resolve(expr, scope)
    if resolved is not None:
        return _adapter_file_name(resolved.value)
    origin = facts.origin(expr) if isinstance(expr, (ast.Name, ast.Attribute)) else None
    if origin is not None:
        library, last = origin.split(".")[0], origin.rsplit(".", 1)[-1]
        return _ADAPTER_CONSTANTS.get(library, {}).get(last)
    if isinstance(expr, ast.JoinedStr) and expr.values:
        last_part = expr.values[-1]
        if isinstance(last_part, ast.Constant) and isinstance(last_part.value, str):
            return _adapter_file_name(last_part.value)
        if isinstance(last_part, ast.FormattedValue):
            return adapter_file(facts, last_part.value, scope, depth + 1)
        return None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Div)):
        return adapter_file(facts, expr.right, scope, depth + 1)
    if isinstance(expr, ast.Call) and called_name(expr.func) in ("join", "joinpath") and expr.args:
        return adapter_file(facts, expr.args[-1], scope, depth + 1)
    if isinstance(expr, ast.Call) and called_name(expr.func) in ("Path", "PurePath", "str", "fspath") and expr.args:
        return adapter_file(facts, expr.args[0], scope, depth + 1)
    if isinstance(expr, ast.Name):
        found = facts._lookup(expr.id, scope)
        if found is not None and len(found[0]) == 1 and found[0][0][0] is not UNKNOWN:
            value, value_scope = found[0][0]
            return adapter_file(facts, value, value_scope, depth + 1)
    return None


def _adapter_file_name(text: str) -> Optional[str]:
    for name in ADAPTER_FILE_NAMES:
        if text == name or text.endswith(("/" + name, "\\" + name)):
            return name
    return None
