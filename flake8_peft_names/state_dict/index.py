"""Per-module lookups the state-dict phases share: who calls what, where a name is used, what returns."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Union

from ..module_facts import UNKNOWN, ModuleFacts, Scope, called_name


@dataclass(frozen=True)
class Positional:
    """The argument at `index` of a call."""

    index: int


@dataclass(frozen=True)
class Keyword:
    """The argument passed as `name=...`."""

    name: str


ArgSlot = Union[Positional, Keyword]


@dataclass(frozen=True)
class MethodCall:
    """A variable used as the receiver of `variable.name(...)`."""

    name: str


NameUse = Union[ArgSlot, MethodCall]


@dataclass(frozen=True)
class Consumer:
    """The call an expression is passed to, and where."""

    call: ast.Call
    scope: Scope
    slot: ArgSlot


Place = tuple[int, str]  # (id of a scope, a name bound in it)


@dataclass
class Index:
    """Lookups by node id and by (scope, name), built in one pass over `ModuleFacts`."""

    calls_by_name: dict[str, list[tuple[ast.Call, Scope]]] = field(default_factory=dict)
    consumer_of: dict[int, Consumer] = field(default_factory=dict)  # id(argument expr) -> its call
    name_uses: dict[Place, list[tuple[ast.Call, NameUse]]] = field(default_factory=dict)
    returns: dict[int, list[ast.Return]] = field(default_factory=dict)  # id(scope) -> returns
    returned: dict[int, Scope] = field(default_factory=dict)  # id(returned expr) -> function scope
    bound: dict[int, tuple[str, Scope]] = field(default_factory=dict)  # id(value) -> (name, scope)
    handles: dict[Place, ast.expr] = field(default_factory=dict)  # `with X as name` -> X
    loops_over: dict[Place, list[ast.For]] = field(default_factory=dict)  # `for .. in name(.items())`


def index_of(facts: ModuleFacts) -> Index:
    return facts.derived(_build_index)


def _build_index(facts: ModuleFacts) -> Index:
    index = Index()
    # the slots are values: one object for each, not one per argument
    positional: dict[int, ArgSlot] = {}
    keywords: dict[str, ArgSlot] = {}
    methods: dict[str, MethodCall] = {}
    for call, scope in facts.calls:
        name = called_name(call.func)
        if name:
            index.calls_by_name.setdefault(name, []).append((call, scope))
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            method = methods.get(func.attr) or methods.setdefault(func.attr, MethodCall(func.attr))
            index.name_uses.setdefault((id(scope), func.value.id), []).append((call, method))
        slots: list[tuple[ast.expr, ArgSlot]] = [
            (arg, positional.get(position) or positional.setdefault(position, Positional(position)))
            for position, arg in enumerate(call.args)
        ]
        slots += [
            (k.value, keywords.get(k.arg) or keywords.setdefault(k.arg, Keyword(k.arg)))
            for k in call.keywords
            if k.arg is not None
        ]
        for arg, slot in slots:
            # `torch.save({"model": sd, "step": step}, path)`: the values of a dict literal go where it goes
            for value in [arg, *(arg.values if isinstance(arg, ast.Dict) else [])]:
                index.consumer_of[id(value)] = Consumer(call, scope, slot)
                if isinstance(value, ast.Name):
                    index.name_uses.setdefault((id(scope), value.id), []).append((call, slot))
    for ret, scope in facts.returns:
        index.returns.setdefault(id(scope), []).append(ret)
        if ret.value is not None:
            index.returned[id(ret.value)] = scope
    for scope in [facts.module_scope, *facts.scope_of.values()]:
        for name, values in scope.bindings.items():
            for value in values:
                if value is not UNKNOWN:
                    index.bound[id(value)] = (name, scope)
    for item, scope in facts.with_items:
        if isinstance(item.optional_vars, ast.Name):
            index.handles[(id(scope), item.optional_vars.id)] = item.context_expr
    for loop, scope in facts.loops:
        walked = loop.iter
        if isinstance(walked, ast.Call) and isinstance(walked.func, ast.Attribute) and not walked.args:
            walked = walked.func.value
        if isinstance(walked, ast.Name):
            index.loops_over.setdefault((id(scope), walked.id), []).append(loop)
    return index
