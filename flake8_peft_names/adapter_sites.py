"""Where a module passes adapter names to peft, transformers or diffusers, and which names."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator, Optional, Union

from .forwarding import Forwarder, ProjectView
from .module_facts import ModuleFacts, Scope, call_argument, dotted
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
    via: Optional[str] = None  # the function that forwards the name to `api` (`attach(m, p, "lora")`)
    through: tuple[str, ...] = ()  # the other modules of the project the name goes through to `api`

    @property
    def defined_elsewhere(self) -> bool:
        return self.literal is not None and self.literal is not self.node


def adapter_name_uses(facts: ModuleFacts) -> list[NameUse]:
    """Every statically known adapter name in the module, in source order (memoised on `facts`)."""
    return facts.derived(_sorted_uses)


def _sorted_uses(facts: ModuleFacts) -> list[NameUse]:
    return sorted(_uses(facts), key=lambda u: (getattr(u.node, "lineno", 0), getattr(u.node, "col_offset", 0)))


# How many functions deep a forwarded name is followed (`main` -> `attach` -> `load_adapter`), within the
# module and across the modules of the project alike.
MAX_FORWARDING = 3


@dataclass(frozen=True)
class _Passed:
    """One adapter-name argument of a call of the API itself, read in `where`; `at` as in `_name_uses`."""

    call: ast.Call
    api: Api
    many: bool
    expr: ast.expr
    where: Scope
    at: Optional[ast.expr]


@dataclass(frozen=True)
class _Forwarded:
    """A call of a function that forwards an argument as an adapter name; `imported` from another module."""

    call: ast.Call
    scope: Scope
    forwarder: Forwarder
    imported: bool

    def note(self) -> Optional[str]:
        """Which other modules the name goes through, for messages; None when it stays in this one."""
        f = self.forwarder
        if self.imported:
            rest = f" through {', '.join(f.modules[1:])}" if f.modules[1:] else ""
            return f"passed to {f.name}() ({f.modules[0]}), which forwards it{rest} to {f.api.name}()"
        if f.modules:
            return f"passed to {f.name}(), which forwards it through {', '.join(f.modules)} to {f.api.name}()"
        return None


def _uses(facts: ModuleFacts) -> Iterator[NameUse]:
    passed, defaults = facts.derived(_direct)
    for p in passed:
        yield from _name_uses(facts, p.expr, p.where, p.call, p.api, p.many, at=p.at)
    for call, scope, api in defaults:
        yield NameUse("default", call, None, call, api, scope, implicit=True)
    for forwarded in facts.derived(_forwarding)[1]:
        f = forwarded.forwarder
        expr = call_argument(forwarded.call, f.position, f.param)
        if expr is not None:
            yield from _name_uses(
                facts, expr, forwarded.scope, forwarded.call, f.api, f.many, via=f.name, through=forwarded
            )


def _direct(facts: ModuleFacts) -> tuple[list[_Passed], list[tuple[ast.Call, Scope, Api]]]:
    """The adapter-name arguments of the API's own calls, and the calls that create the adapter `default`
    because they pass no name."""
    passed: list[_Passed] = []
    defaults: list[tuple[ast.Call, Scope, Api]] = []
    for call, scope in facts.calls:
        target, partial = _partial_target(facts, call)
        api, peft_class = _api_of(facts, target.func)
        if api is None:
            continue
        found = False
        for arg in api.args:
            argument = _argument(facts, target, api, arg, scope, peft_class)
            if argument is not None:
                found = True
                passed.append(_Passed(call, api, arg.many, *argument))
        creates_default = api.name in CREATES_DEFAULT or (api.name == "from_pretrained" and peft_class)
        if not found and creates_default and not partial:
            defaults.append((call, scope, api))
    return passed, defaults


def _name_uses(
    facts: ModuleFacts,
    expr: ast.expr,
    scope: Scope,
    call: ast.Call,
    api: Api,
    many: bool,
    via: Optional[str] = None,
    at: Optional[ast.expr] = None,
    through: Optional[_Forwarded] = None,
) -> Iterator[NameUse]:
    """The names one argument passes: each item of a list, both arms of a conditional, each item of a loop
    over a literal list. A name whose literal is written inside the argument is reported at the literal;
    `at` is where the argument is passed when it is not written in the call (`**kwargs`)."""
    items = facts.resolve_many(expr, scope) if many else []
    if not items:
        items = [(at or expr, r) for r in facts.resolve_each(expr, scope)]
    exclusive = _is_conditional(facts, expr, scope)
    forwarded = through.note() if through is not None else None
    modules = through.forwarder.modules if through is not None else ()
    for node, resolved in items:
        shown: ast.AST = node
        if resolved.literal is not None and _inside(resolved.literal, node):
            shown = resolved.literal
        note = "; ".join(n for n in (resolved.note, forwarded) if n) or None
        yield NameUse(
            resolved.value, shown, resolved.literal, call, api, scope, note=note, exclusive=exclusive, via=via,
            through=modules,
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
    if isinstance(func, ast.Name):  # `partial(...)`, `from functools import partial [as p]`
        is_partial = facts.imports.get(func.id) == "functools.partial"
    else:  # `functools.partial(...)`, also without an import the tool saw
        is_partial = isinstance(func, ast.Attribute) and func.attr == "partial" and (
            facts.origin(func) == "functools.partial"
            or (isinstance(func.value, ast.Name) and func.value.id == "functools")
        )
    if not is_partial or not call.args or isinstance(call.args[0], ast.Starred):
        return call, False
    target = ast.Call(func=call.args[0], args=call.args[1:], keywords=call.keywords)
    return ast.copy_location(target, call), True


def forwarders(facts: ModuleFacts) -> list[Forwarder]:
    """Every function and method of the module that passes a parameter on as an adapter name, to the API
    itself or through other forwarders, here or (with `facts.project`) in other modules of the project, up to
    MAX_FORWARDING functions deep (memoised on `facts`)."""
    return facts.derived(_forwarding)[0]


def _forwarding(facts: ModuleFacts) -> tuple[list[Forwarder], list[_Forwarded]]:
    """The module's forwarders, and each call of a forwarder, found breadth first: first the functions that
    pass a parameter to the API or to a forwarder of another module, then those that pass one to these."""
    passed, _ = facts.derived(_direct)
    calls = list(_imported_calls(facts))
    new = [f for p in passed for f in _forwarder(p.expr, p.where, p.api, p.many, 1, ())]
    new += [g for c in calls for g in _further(facts, c)]
    known: dict[tuple[str, Optional[str], str, str], Forwarder] = {}
    while new:
        by_name: dict[str, list[Forwarder]] = {}
        for forwarder in new:
            key = (forwarder.name, forwarder.owner, forwarder.param, forwarder.api.name)
            if key not in known:
                known[key] = forwarder
                by_name.setdefault(forwarder.name, []).append(forwarder)
        new = []
        for call, scope in facts.calls if by_name else ():
            for forwarder in _local_callee(facts, call, by_name):
                found = _Forwarded(call, scope, forwarder, imported=False)
                calls.append(found)
                new.extend(_further(facts, found))
    return list(known.values()), calls


def _further(facts: ModuleFacts, forwarded: _Forwarded) -> list[Forwarder]:
    """The caller's own parameter, when that is what it passes on."""
    f = forwarded.forwarder
    expr = call_argument(forwarded.call, f.position, f.param)
    if expr is None or f.depth >= MAX_FORWARDING:
        return []
    return _forwarder(expr, forwarded.scope, f.api, f.many, f.depth + 1, f.modules)


def _forwarder(
    expr: ast.expr, scope: Scope, api: Api, many: bool, depth: int, modules: tuple[str, ...]
) -> list[Forwarder]:
    """`def attach(model, path, name): model.load_adapter(path, adapter_name=name)`: `name` is forwarded."""
    function = scope.node
    if not isinstance(expr, ast.Name) or not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    if expr.id not in scope.params or expr.id in scope.bindings:
        return []
    args = function.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    owner = scope.enclosing_class
    position: Optional[int] = None
    if expr.id in positional:
        position = positional.index(expr.id) - (1 if owner is not None else 0)
        if position < 0:
            return []
    elif expr.id not in [a.arg for a in args.kwonlyargs]:
        return []  # *args or **kwargs
    owner_name = owner.node.name if owner is not None and isinstance(owner.node, ast.ClassDef) else None
    return [Forwarder(function.name, owner_name, position, expr.id, api, many, depth, modules)]


def _local_callee(facts: ModuleFacts, call: ast.Call, by_name: dict[str, list[Forwarder]]) -> list[Forwarder]:
    """The forwarders of this module a call may be: `attach(...)` for a function, `self.attach(...)` for a
    method, when the module defines that name once."""
    func = call.func
    if isinstance(func, ast.Name):
        name, method = func.id, False
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
        name, method = func.attr, True
    else:
        return []
    if name not in by_name or facts.derived(_defined_names).get(name, 0) != 1:
        return []
    function = next(
        (f for f, _ in facts.functions if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name == name),
        None,
    )
    if function is None or not binds(call, function, method):
        return []  # a call Python cannot bind raises TypeError: it passes no name
    return [f for f in by_name[name] if f.method == method]


def _imported_calls(facts: ModuleFacts) -> Iterator[_Forwarded]:
    """Calls of forwarders other modules of the project define: functions by the name this module imports
    them as (`add_adapter_to_model(...)`, `wrappers.add_adapter_to_model(...)`), and methods, on any
    receiver, of a name that only forwarding methods have among the modules this module imports and that
    this module does not define (project_index.py)."""
    project = facts.project
    if project is None:
        return
    defined = facts.derived(_defined_names)
    for call, scope in facts.calls:
        func = call.func
        path = dotted(func)
        found: tuple[Forwarder, ...] = ()
        if path and path[0] in facts.imports:
            if facts.project_name(path, scope) and project.may_forward(path):
                if _may_pass_name(facts, project, call, scope):
                    found = project.functions(path)
        elif isinstance(func, ast.Attribute) and func.attr not in defined:
            if func.attr not in METHODS_TAKING_NAMES and func.attr not in PEFT_CALLABLES:
                if project.may_forward_method(func.attr) and _may_pass_name(facts, project, call, scope):
                    found = tuple(f for f in project.methods(func.attr) if f.method)
        for forwarder in found:
            yield _Forwarded(call, scope, forwarder, imported=True)


def _may_pass_name(facts: ModuleFacts, project: ProjectView, call: ast.Call, scope: Scope) -> bool:
    """Whether the call may pass a name on: a parameter of the calling function (which makes that function a
    forwarder too). A module read for what it forwards needs only that; in the module checked, the parameter
    of a function the module calls (by its name: `_local_callee`), a value known statically (a parameter's
    default too), or an attribute that the modules this one imports may set to a string (a cheap search,
    project_index.Assignments)."""
    for value in (*call.args, *(k.value for k in call.keywords)):
        if isinstance(value, ast.Name) and value.id in scope.params:
            if not project.checked or getattr(scope.node, "name", None) in facts.derived(_called_names):
                return True
        if not project.checked or isinstance(value, ast.Starred):
            continue
        if isinstance(value, ast.Attribute):
            if project.may_hold_string(value.attr):
                return True
        elif facts.resolve_each(value, scope):
            return True
    return False


def binds(call: ast.Call, function: Union[ast.FunctionDef, ast.AsyncFunctionDef], method: bool) -> bool:
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


def _called_names(facts: ModuleFacts) -> frozenset[str]:
    """The names the module's calls call: `f(...)`, `obj.f(...)`."""
    funcs = (call.func for call, _ in facts.calls)
    return frozenset(
        f.id if isinstance(f, ast.Name) else f.attr for f in funcs if isinstance(f, (ast.Name, ast.Attribute))
    )


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


def _api_words() -> frozenset[str]:
    """Words the text of a module must contain for a call in it to pass an adapter name to the API: the name of
    an API that takes one by position (also the keyword-only add_adapter: _written_argument), the keyword of
    one that takes it by keyword only, or a peft class (`PeftModel.from_pretrained(model, path, name)`). A name
    imported under another name is still written in its import; `**{"adapter_name": ...}` writes the keyword."""
    words = {"add_adapter", *PEFT_MODEL_CLASSES}
    for api in (*METHODS_TAKING_NAMES.values(), *PEFT_CALLABLES.values()):
        words.update(api.name if arg.position is not None else arg.keyword for arg in api.args)
    return frozenset(words)


API_WORDS = _api_words()


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
