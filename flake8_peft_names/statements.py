"""Statements in the order they run: the blocks a statement holds, what it assigns, the calls of its own
expressions. For rules that follow a function body statement by statement (PFT107)."""
from __future__ import annotations

import ast
from typing import Iterator

from .walk import walk


def blocks(stmt: ast.stmt) -> Iterator[list[ast.stmt]]:
    """The statement lists a statement holds: bodies, `else`, `finally`, handlers, match cases."""
    for name in ("body", "orelse", "finalbody"):
        block = getattr(stmt, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            yield block
    for handler in getattr(stmt, "handlers", []):
        yield handler.body
    for case in getattr(stmt, "cases", []):
        yield case.body


# Statements whose body runs elsewhere (when called or defined), not in the block's order.
NEW_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def assigned_targets(stmt: ast.stmt) -> list[str]:
    """What a plain or annotated assignment rebinds, as written."""
    if isinstance(stmt, ast.Assign):
        return [ast.unparse(t) for t in stmt.targets]
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and getattr(stmt, "value", None) is not None:
        return [ast.unparse(stmt.target)]
    return []


def calls_in(stmt: ast.stmt) -> Iterator[ast.Call]:
    """Calls in a statement's own expressions, in source order, not in nested blocks or scopes."""
    roots: list[ast.AST] = []
    for name, value in ast.iter_fields(stmt):
        if name in ("body", "orelse", "finalbody", "handlers", "cases", "decorator_list"):
            continue
        roots.extend(value if isinstance(value, list) else [value])
    calls = [
        node
        for root in roots
        if isinstance(root, ast.AST)
        for node in walk(root)
        if isinstance(node, ast.Call)
    ]
    return iter(sorted(calls, key=lambda c: (c.lineno, c.col_offset)))
