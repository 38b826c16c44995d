"""Collections filtered by an adapter key marker that are no checkpoint: only looked at where they are built.

A copy of the LoRA tensors taken before training to assert they changed, a list of names asserted to hold a
key, the lora_A weights of several seeds compared with each other: none is saved, loaded or handed on, so
PFT201's consequences (keys keep the adapter name, reload fails) cannot happen. Asked only about a finding:
it walks the function that binds the collection.
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from ..module_facts import Scope, called_name
from .filtered import Filtered
from .flows import Flows
from .view import StateDicts

# Calls that look at a collection (or its items) without keeping or writing it.
_INSPECTING = frozenset(
    "len print sorted list set tuple sum any all min max isinstance str repr format allclose equal isclose "
    "assert_close cosine_similarity norm abs zip enumerate dist".split()
)
# Calls in a statement that uses the collection that write it out, load it, or keep it elsewhere.
_KEEPING = frozenset(
    "save save_file save_pretrained load_state_dict set_peft_model_state_dict copy_ save_model update "
    "append extend insert setdefault put dump dumps log_artifact upload".split()
)
# Results that are numbers computed from tensors, not the tensors (`sims.extend(cos(a, b).abs().tolist())`).
_NUMBERS = frozenset("tolist item float int mean sum norm numel".split())
_MAX_CONTAINERS = 1  # `seeds.append({...})`: the list it is appended to, looked at in turn


def only_inspected(sources: StateDicts, item: Filtered, flows: Flows) -> bool:
    """Bound to a variable (or appended to a list) whose every use only reads it: compared, asserted, counted,
    indexed, looped over without writing anything. Not returned, saved, loaded or passed on."""
    if flows.returned_from or flows.pretrained:
        return False
    variable = item.target or sources.values.index.bound.get(id(item.node))
    depth = 0
    if variable is None:
        variable = _appended_to(sources, item)
        depth = 1
        if variable is None:
            return False
    return _reads_only(variable[0], variable[1], depth)


def _appended_to(sources: StateDicts, item: Filtered) -> Optional[tuple[str, Scope]]:
    consumer = sources.values.index.consumer_of.get(id(item.node))
    if consumer is None:
        return None
    func = consumer.call.func
    if isinstance(func, ast.Attribute) and func.attr == "append" and isinstance(func.value, ast.Name):
        return func.value.id, consumer.scope
    return None


def _reads_only(name: str, scope: Scope, depth: int) -> bool:
    parents: dict[int, ast.AST] = {}
    loads = []
    for node in _walk_scope(scope.node):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            loads.append(node)
    if not loads:
        return False  # bound and never read: nothing tells what it is for
    for load in loads:
        parent = parents.get(id(load))
        if isinstance(parent, ast.Attribute) and parent.attr in ("append", "extend") and depth > 0:
            continue  # the list a snapshot is appended to: filled here
        if isinstance(parent, ast.keyword):
            parent = parents.get(id(parent))
        if isinstance(parent, ast.Call) and parent.func is not load:
            callee = called_name(parent.func)
            container = parent.func.value if isinstance(parent.func, ast.Attribute) else None
            if callee == "append" and isinstance(container, ast.Name) and depth < _MAX_CONTAINERS:
                if not _reads_only(container.id, scope, depth + 1):
                    return False
                continue
            if callee is None or not (callee in _INSPECTING or callee.startswith("assert")):
                return False
        statement = _statement_of(load, parents)
        if statement is None or not _harmless(statement):
            return False
    return True


def _walk_scope(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of one function (or module) body, not of the functions defined in it."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        current = stack.pop()
        yield current
        if not isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(current))


def _statement_of(node: ast.AST, parents: dict[int, ast.AST]) -> Optional[ast.stmt]:
    current: Optional[ast.AST] = node
    while current is not None and not isinstance(current, ast.stmt):
        current = parents.get(id(current))
    return current if isinstance(current, ast.stmt) else None


def _harmless(statement: ast.stmt) -> bool:
    """The statement (a loop: with its body) returns nothing, writes no file, loads nothing and copies
    nothing into another collection or attribute."""
    for node in ast.walk(statement):
        if isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom, ast.Global, ast.Nonlocal)):
            return False
        if isinstance(node, ast.Call) and called_name(node.func) in _KEEPING and not _keeps_numbers(node):
            return False
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, (ast.Subscript, ast.Attribute)) for t in targets):
                return False
    return True


def _keeps_numbers(call: ast.Call) -> bool:
    return bool(call.args) and all(
        isinstance(arg, ast.Call) and called_name(arg.func) in _NUMBERS for arg in call.args
    ) and not call.keywords
