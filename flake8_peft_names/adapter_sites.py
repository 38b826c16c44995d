"""Where a module passes adapter names to peft, transformers or diffusers, and which names."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator, Optional, Union

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
    note: Optional[str] = None  # where a fallback value comes from (the default of `os.environ.get`)
    exclusive: bool = False  # one arm of `a if c else b`: the other arm's name never exists next to it
    via: Optional[str] = None  # the local function that forwards the name to `api` (`attach(m, p, "lora")`)

    @property
    def defined_elsewhere(self) -> bool:
        return self.literal is not None and self.literal is not self.node


def adapter_name_uses(facts: ModuleFacts) -> list[NameUse]:
    """Every statically known adapter name in the module, in source order (memoised on `facts`)."""
    return facts.derived(_sorted_uses)


def _sorted_uses(facts: ModuleFacts) -> list[NameUse]:
    return sorted(_uses(facts), key=lambda u: (getattr(u.node, "lineno", 0), getattr(u.node, "col_offset", 0)))


FunctionDef = Union[ast.FunctionDef, ast.AsyncFunctionDef]
# How many local functions deep a forwarded name is followed (`main` -> `attach` -> `load_adapter`).
MAX_FORWARDING = 3


@dataclass(frozen=True)
class _Forwarder:
    """A local function that passes one of its parameters on as an adapter name."""

    function: FunctionDef
    position: Optional[int]  # of the parameter, as callers pass it (`self` not counted for a method)
    param: str
    api: Api
    many: bool
    method: bool


def _uses(facts: ModuleFacts) -> Iterator[NameUse]:
    forwarders: list[_Forwarder] = []
    for call, scope in facts.calls:
        target, partial = _partial_target(facts, call)
        api, peft_class = _api_of(facts, target.func)
        if api is None:
            continue
        found = False
        for arg in api.args:
            argument = _argument(facts, target, api, arg, scope, peft_class)
            if argument is None:
                continue
            found = True
            expr, where, at = argument
            yield from _name_uses(facts, expr, where, call, api, arg.many, at=at)
            forwarder = _forwarder(expr, where, api, arg.many)
            if forwarder is not None:
                forwarders.append(forwarder)
        creates_default = api.name in CREATES_DEFAULT or (api.name == "from_pretrained" and peft_class)
        if not found and creates_default and not partial:
            yield NameUse("default", call, None, call, api, scope, implicit=True)
    yield from _forwarded(facts, forwarders)


def _name_uses(
    facts: ModuleFacts,
    expr: ast.expr,
    scope: Scope,
    call: ast.Call,
    api: Api,
    many: bool,
    via: Optional[str] = None,
    at: Optional[ast.expr] = None,
) -> Iterator[NameUse]:
    """The names one argument passes: each item of a list, both arms of a conditional, each item of a loop
    over a literal list. A name whose literal is written inside the argument is reported at the literal;
    `at` is where the argument is passed when it is not written in the call (`**kwargs`)."""
    items = facts.resolve_many(expr, scope) if many else []
    if not items:
        items = [(at or expr, r) for r in facts.resolve_each(expr, scope)]
    exclusive = _is_conditional(facts, expr, scope)
    for node, resolved in items:
        shown: ast.AST = node
        if resolved.literal is not None and _inside(resolved.literal, node):
            shown = resolved.literal
        yield NameUse(
            resolved.value, shown, resolved.literal, call, api, scope, note=resolved.note, exclusive=exclusive, via=via
        )


def _is_conditional(facts: ModuleFacts, expr: ast.expr, scope: Scope) -> bool:
    if isinstance(expr, ast.Name):
        value = facts._value_of(expr, scope)
        expr = value if value is not None else expr
    return isinstance(expr, ast.IfExp)


def _inside(inner: ast.AST, outer: ast.AST) -> bool:
    """Whether `inner` starts within `outer`'s span."""
    start: tuple[int, int] = (getattr(inner, "lineno", 0), getattr(inner, "col_offset", 0))
    end_line, end_col = getattr(outer, "end_lineno", None), getattr(outer, "end_col_offset", None)
    if end_line is None or end_col is None:
        return False
    return (getattr(outer, "lineno", 0), getattr(outer, "col_offset", 0)) <= start < (end_line, end_col)


def _partial_target(facts: ModuleFacts, call: ast.Call) -> tuple[ast.Call, bool]:
    """`functools.partial(f, *args, **kw)` stands for `f(*args, **kw)`; any other call for itself."""
    func = call.func
    is_partial = facts.origin(func) == "functools.partial" or (
        isinstance(func, ast.Attribute) and func.attr == "partial" and isinstance(func.value, ast.Name)
        and func.value.id == "functools"
    )
    if not is_partial or not call.args or isinstance(call.args[0], ast.Starred):
        return call, False
    target = ast.Call(func=call.args[0], args=call.args[1:], keywords=call.keywords)
    return ast.copy_location(target, call), True


def _forwarder(expr: ast.expr, scope: Scope, api: Api, many: bool) -> Optional[_Forwarder]:
    """`def attach(model, path, name): model.load_adapter(path, adapter_name=name)`: `name` is forwarded."""
    function = scope.node
    if not isinstance(expr, ast.Name) or not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    if expr.id not in scope.params or expr.id in scope.bindings:
        return None
    args = function.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    method = scope.enclosing_class is not None
    position: Optional[int] = None
    if expr.id in positional:
        position = positional.index(expr.id) - (1 if method else 0)
        if position < 0:
            return None
    elif expr.id not in [a.arg for a in args.kwonlyargs]:
        return None  # *args or **kwargs
    return _Forwarder(function, position, expr.id, api, many, method)


def _forwarded(facts: ModuleFacts, forwarders: list[_Forwarder]) -> Iterator[NameUse]:
    """The names the module passes to its own forwarding functions, reported at the caller's argument."""
    for _ in range(MAX_FORWARDING):
        if not forwarders:
            return
        by_name: dict[str, list[_Forwarder]] = {}
        for forwarder in forwarders:
            by_name.setdefault(forwarder.function.name, []).append(forwarder)
        defined = {f.name for f, _ in facts.functions if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
        found: list[_Forwarder] = []
        for call, scope in facts.calls:
            func = call.func
            if isinstance(func, ast.Name):
                name, method = func.id, False
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
                name, method = func.attr, True
            else:
                continue
            if name not in by_name or name not in defined or _defined_twice(facts, name):
                continue
            for forwarder in by_name[name]:
                if forwarder.method != method or not binds(call, forwarder.function, method):
                    continue
                expr = call_argument(call, forwarder.position, forwarder.param)
                if expr is None:
                    continue
                yield from _name_uses(facts, expr, scope, call, forwarder.api, forwarder.many, via=name)
                further = _forwarder(expr, scope, forwarder.api, forwarder.many)
                if further is not None and further.function is not forwarder.function:
                    found.append(further)
        forwarders = found


def binds(call: ast.Call, function: FunctionDef, method: bool) -> bool:
    """Python can bind the call's arguments to the function's parameters (`self` left out of a method's): a call
    that raises TypeError (an argument missing, one too many, an unknown keyword) passes no name anywhere.
    A call with `*args` or `**kwargs` may bind."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return True
    args = function.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)][1 if method else 0:]
    posonly = {a.arg for a in args.posonlyargs}
    if len(call.args) > len(positional) and args.vararg is None:
        return False
    given = set(positional[: len(call.args)])
    keywords = [k.arg for k in call.keywords if k.arg is not None]
    known = set(positional) - posonly | {a.arg for a in args.kwonlyargs}
    if any(k in given or (k not in known and args.kwarg is None) for k in keywords):
        return False
    given |= set(keywords)
    required = positional[: len(positional) - len(args.defaults)] if args.defaults else positional
    required += [a.arg for a, default in zip(args.kwonlyargs, args.kw_defaults) if default is None]
    return all(name in given for name in required)


def _defined_twice(facts: ModuleFacts, name: str) -> bool:
    return facts.derived(_defined_names).get(name, 0) > 1


def _defined_names(facts: ModuleFacts) -> dict[str, int]:
    counts: dict[str, int] = {}
    for function, _ in facts.functions:
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            counts[function.name] = counts.get(function.name, 0) + 1
    return counts


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
) -> Optional[tuple[ast.expr, Scope, Optional[ast.expr]]]:
    """The expression passed for `arg`, the scope it is read in, and where it is passed if that is not the
    expression itself: written in the call, or an entry of a dict written in the module and passed as
    `**kwargs` (`dict(adapter_name=...)`, `{"adapter_name": ...}`)."""
    expr = _written_argument(facts, call, api, arg, scope, peft_class)
    if expr is not None:
        return expr, scope, None
    for keyword in call.keywords:
        if keyword.arg is None:
            found = _kwargs_entry(facts, keyword.value, arg.keyword, scope)
            if found is not None:
                return found[0], found[1], keyword.value if isinstance(keyword.value, ast.Name) else None
    return None


def _kwargs_entry(facts: ModuleFacts, expr: ast.expr, key: str, scope: Scope) -> Optional[tuple[ast.expr, Scope]]:
    where = scope
    if isinstance(expr, ast.Name):
        found = facts._lookup(expr.id, scope)
        if found is None or len(found[0]) != 1 or (id(found[1]), expr.id) in facts.mutated:
            return None
        expr, where = found[0][0]
    if isinstance(expr, ast.Dict):
        for k, v in zip(expr.keys, expr.values):
            if isinstance(k, ast.Constant) and k.value == key:
                return v, where
    elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "dict":
        if expr.func.id not in facts.local_defs and not expr.args:
            for keyword in expr.keywords:
                if keyword.arg == key:
                    return keyword.value, where
    return None


def _written_argument(
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
