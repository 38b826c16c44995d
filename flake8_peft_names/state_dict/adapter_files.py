"""Paths to PEFT's adapter checkpoint files (`adapter_model.safetensors`, `adapter_model.bin`)."""

from __future__ import annotations

import ast
import re
import string
from typing import Optional, Union

from ..module_facts import UNKNOWN, ModuleFacts, Scope, call_argument, called_name

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
    if isinstance(expr, ast.Call) and facts.origin(expr.func) in _HUB_DOWNLOADS:
        filename = call_argument(expr, 1, "filename")  # the local path of the downloaded file
        return adapter_file(facts, filename, scope, depth + 1) if filename is not None else None
    tail = _formatted_tail(expr)
    if isinstance(tail, str):
        name = _adapter_file_name(tail)
        return name if tail != name else None  # a field before a bare name may end with anything
    if tail is not None:
        return adapter_file(facts, tail, scope, depth + 1)
    if isinstance(expr, ast.Name):
        found = facts._lookup(expr.id, scope)
        if found is not None and len(found[0]) == 1 and found[0][0][0] is not UNKNOWN:
            value, value_scope = found[0][0]
            return adapter_file(facts, value, value_scope, depth + 1)
    return None


_HUB_DOWNLOADS = ("huggingface_hub.hf_hub_download", "huggingface_hub.file_download.hf_hub_download")
# One printf-style conversion (`%s`, `%-10d`, `%(name)s`): its mapping key and conversion character.
_PERCENT_FIELD = re.compile(r"%(?:\(([^)]*)\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])")


def _formatted_tail(expr: ast.expr) -> Union[str, ast.expr, None]:
    """How `"{}/adapter_model.bin".format(out)` or `"%s/%s" % (out, name)` ends: the literal text after the
    last field, or the argument of a last field that follows a path separator (or is the whole string)."""
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "format"
        and isinstance(expr.func.value, ast.Constant)
        and isinstance(expr.func.value.value, str)
    ):
        return _format_tail(expr.func.value.value, expr)
    if (
        isinstance(expr, ast.BinOp)
        and isinstance(expr.op, ast.Mod)
        and isinstance(expr.left, ast.Constant)
        and isinstance(expr.left.value, str)
    ):
        return _percent_tail(expr.left.value, expr.right)
    return None


def _format_tail(template: str, call: ast.Call) -> Union[str, ast.expr, None]:
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return None
    if not parts:
        return None
    text, field, spec, conversion = parts[-1]
    if field is None:
        return text
    if spec or conversion or not _separated(parts[:-1], text):
        return None
    if field == "":  # automatic numbering: the last field takes the argument after the earlier ones
        position = sum(1 for p in parts[:-1] if p[1] is not None)
        return _positional(call.args, position)
    if field.isdigit():
        return _positional(call.args, int(field))
    return next((k.value for k in call.keywords if k.arg == field), None)


def _percent_tail(template: str, values: ast.expr) -> Union[str, ast.expr, None]:
    fields = [m for m in _PERCENT_FIELD.finditer(template) if m.group(4) != "%"]
    if not fields:
        return None
    last = fields[-1]
    after = template[last.end():]
    if after:
        return after.replace("%%", "%") if "%" not in after.replace("%%", "") else None
    before = template[: last.start()].replace("%%", "%")
    if last.group(1) is not None or last.group(4) != "s" or any(m.group(2) == "*" or m.group(3) == "*" for m in fields):
        return None
    if not (before.endswith(("/", "\\")) or (len(fields) == 1 and not before)):
        return None
    items = values.elts if isinstance(values, ast.Tuple) else [values]
    return _positional(items, len(fields) - 1) if len(items) == len(fields) else None


def _separated(earlier: list[tuple[str, Optional[str], Optional[str], Optional[str]]], text: str) -> bool:
    """The last field follows a path separator, or is the whole template."""
    return text.endswith(("/", "\\")) or (not text and all(p[1] is None and not p[0] for p in earlier))


def _positional(args: list[ast.expr], position: int) -> Optional[ast.expr]:
    if any(isinstance(a, ast.Starred) for a in args[: position + 1]) or position >= len(args):
        return None
    return args[position]


def _adapter_file_name(text: str) -> Optional[str]:
    for name in ADAPTER_FILE_NAMES:
        if text == name or text.endswith(("/" + name, "\\" + name)):
            return name
    return None
