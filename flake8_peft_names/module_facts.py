"""What one pass over a module's `ast` (module_scan.py) knows: imports, scopes, string constants, the PEFT
methods in use; and the static value of a string expression.

Rules read these facts; nothing here reports anything. The code is never imported or run.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Callable, Hashable, Optional, Protocol, TypeVar, Union, cast

from .forwarding import ProjectView
from .peft_facts import ADAPTER_LIBRARIES, LORA, METHODS_BY_TYPE, Method

# A binding whose value cannot be known statically (loop target, import, augmented assignment, ...).
UNKNOWN = ast.Constant(value=None)
MAX_DEPTH = 12
FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]
# Where an import statement takes a name from: (level, module, name), `from ..a import b` -> (2, "a", "b"),
# `import a.b` -> (0, "a", None) (the local name `a`), `import a.b as c` -> (0, "a.b", None).
ImportSource = tuple[int, str, Optional[str]]
T = TypeVar("T")
# Calls whose value `resolve` knows: an environment variable's fallback, a typer option's default.
ENV_FALLBACKS = ("os.environ.get", "os.getenv")
TYPER_DEFAULTS = ("typer.Option", "typer.Argument")


@dataclass(eq=False)
class Scope:
    node: ast.AST
    parent: Optional[Scope]
    bindings: dict[str, list[ast.expr]] = field(default_factory=dict)
    params: dict[str, Optional[ast.expr]] = field(default_factory=dict)

    @property
    def is_class(self) -> bool:
        return isinstance(self.node, ast.ClassDef)

    @property
    def enclosing_class(self) -> Optional[Scope]:
        """For a method's scope: the class it is defined in."""
        parent = self.parent
        return parent if parent is not None and parent.is_class else None

    def bind(self, name: str, value: ast.expr) -> None:
        self.bindings.setdefault(name, []).append(value)


class LoopItem(ast.expr):
    """Not Python syntax: the binding of a `for` target, which takes each item of `iterable` in turn (`path`
    picks a part of each item for a tuple target: `for name, path in {...}.items()` binds `name` to path (0,))."""

    _fields = ()

    def __init__(self, loop: ast.For, path: tuple[int, ...]) -> None:
        super().__init__()
        self.loop = loop
        self.iterable = loop.iter
        self.path = path

    def contains(self, node: ast.expr) -> bool:
        """Whether `node` is written inside the loop's body."""
        first, last = self.loop.body[0], self.loop.body[-1]
        where = (node.lineno, node.col_offset)
        return (first.lineno, first.col_offset) <= where <= (last.end_lineno or last.lineno, last.end_col_offset or 0)


@dataclass(frozen=True)
class Resolved:
    """A statically known string. `literal` is where the whole string is written, if anywhere; `note` says
    where a value that is only a fallback comes from (the default of `os.environ.get`)."""

    value: str
    literal: Optional[ast.Constant]
    note: Optional[str] = None
    imported: bool = False  # a constant of another module of the project (`note` says which)


@dataclass(frozen=True)
class ForeignCall:
    """A call, in another module of the project, of a function or method the checked module defines: that
    module's facts (read, never run), the call, its scope there, and the module as messages show it."""

    facts: ModuleFacts
    call: ast.Call
    scope: Scope
    shown: str

    @property
    def where(self) -> str:
        return f"{self.shown}:{self.call.lineno}"


class Callers(Protocol):
    """Who calls the checked module's functions from the other modules of its project (project_callers.py),
    read lazily; the state-dict facts ask only about a function whose parameter or result they cannot know
    from the module alone."""

    def calls(self, name: str, method: bool) -> tuple[ForeignCall, ...]:
        """The calls of the module-level function `name` (or, with `method`, of the method so named, on any
        receiver) in the project modules that import it; () when there are none or they cannot be known."""


@dataclass
class ModuleFacts:
    tree: ast.Module
    module_scope: Scope
    scope_of: dict[int, Scope] = field(default_factory=dict)  # id(function or class node) -> its scope
    imports: dict[str, str] = field(default_factory=dict)  # local name -> dotted origin
    local_defs: set[str] = field(default_factory=set)  # names of functions and classes defined here
    classes: dict[str, Scope] = field(default_factory=dict)
    instance_attrs: dict[int, dict[str, list[ast.expr]]] = field(default_factory=dict)  # class scope id
    loose_attrs: dict[str, list[tuple[ast.expr, Scope]]] = field(default_factory=dict)
    calls: list[tuple[ast.Call, Scope]] = field(default_factory=list)
    functions: list[tuple[FunctionNode, Scope]] = field(default_factory=list)
    comprehensions: list[tuple[ast.expr, Scope]] = field(default_factory=list)
    loops: list[tuple[ast.For, Scope]] = field(default_factory=list)
    returns: list[tuple[ast.Return, Scope]] = field(default_factory=list)
    with_items: list[tuple[ast.withitem, Scope]] = field(default_factory=list)  # `with A as b` (sync only)
    mutated: set[tuple[int, str]] = field(default_factory=set)  # (id(scope), name) of `name[k] = / del name[k]`
    config_methods: set[str] = field(default_factory=set)  # peft types named by the code
    target_modules: set[str] = field(default_factory=set)
    all_linear_targets: bool = False  # `target_modules="all-linear"`: every linear layer is adapted
    modules_to_save: set[str] = field(default_factory=set)
    mentions_modules_to_save: bool = False
    biases: set[str] = field(default_factory=set)  # values of `bias=` keywords (a config's bias setting)
    expected_failures: list[tuple[ast.With, Scope]] = field(default_factory=list)  # `with pytest.raises(...)`
    import_sources: dict[str, list[ImportSource]] = field(default_factory=dict)  # local name -> each import of it
    star_import: bool = False  # `from m import *`: any imported name may be rebound by it
    declared_global: set[str] = field(default_factory=set)  # names a function declares `global`
    assigned_attrs: set[str] = field(default_factory=set)  # attributes set on other objects than `self` ("*": any)
    strings: list[ast.Constant] = field(default_factory=list)  # every string literal
    loads: list[tuple[Union[ast.Name, ast.Attribute], Scope]] = field(default_factory=list)  # reads, in their scope
    call_targets: dict[int, list[ast.expr]] = field(default_factory=dict)  # id(call) -> targets of `t = call()`
    project: Optional[ProjectView] = None  # the rest of the project, when the front end analyses it
    across: Optional[Callers] = None  # the callers of its functions in the project (state dicts)
    _derived: dict[tuple[Callable[..., object], tuple[Hashable, ...]], object] = field(
        default_factory=dict, repr=False
    )
    # resolve()'s memo, keyed by (id(expr), id(scope)); the value keeps both alive so that ids are never reused.
    _resolved: dict[tuple[int, int], tuple[ast.expr, Scope, Optional[Resolved]]] = field(
        default_factory=dict, repr=False
    )
    _resolving: set[tuple[int, int]] = field(default_factory=set, repr=False)
    _depth_cuts: int = field(default=0, repr=False)

    def release(self) -> None:
        """Drop what was derived, and the project view: both refer back to these (cycles), so without this a
        module would wait for the cycle collector instead of being freed when its analysis returns."""
        self._derived.clear()
        self._resolved.clear()
        self.project = self.across = None

    def derived(self, build: Callable[..., T], *args: Hashable) -> T:
        """`build(self, *args)`, computed once per module: the typed memo of every fact derived from these."""
        key = (build, args)
        if key not in self._derived:
            self._derived[key] = build(self, *args)
        return cast(T, self._derived[key])

    # ----------------------------------------------------------------------------------------
    # Which library a callable comes from

    def origin(self, func: ast.expr) -> Optional[str]:
        """Dotted origin of a called name or attribute chain (`gpm` -> `peft.get_peft_model`)."""
        parts = []
        while isinstance(func, ast.Attribute):
            parts.append(func.attr)
            func = func.value
        if not isinstance(func, ast.Name) or func.id not in self.imports:
            return None
        return ".".join([self.imports[func.id], *reversed(parts)])

    def is_adapter_library(self, func: ast.expr, name: str) -> bool:
        """A call of `name` that may be peft's: imported from an adapter library, or not imported."""
        origin = self.origin(func)
        if origin is not None:
            return origin.split(".")[0] in ADAPTER_LIBRARIES and origin.rsplit(".", 1)[-1] == name
        if isinstance(func, ast.Name):
            return func.id == name and name not in self.local_defs
        return False

    @property
    def methods(self) -> tuple[Method, ...]:
        found = tuple(METHODS_BY_TYPE[t] for t in sorted(self.config_methods))
        return found or (LORA,)

    # ----------------------------------------------------------------------------------------
    # Static string values

    def resolve(self, expr: ast.expr, scope: Scope, depth: int = 0) -> Optional[Resolved]:
        """The one string `expr` has wherever it runs, else None. Every input of a value must be known, so a
        value that depends on itself is unknown: a binding met again while it is being resolved is None, and
        the result is exact and kept. Only a result cut by MAX_DEPTH (the bound on a chain's length, which keeps
        the recursion shallow) depends on where it was asked from, and is not kept."""
        key = (id(expr), id(scope))
        kept = self._resolved.get(key)
        if kept is not None:
            return kept[2]
        if key in self._resolving:
            return None
        if depth > MAX_DEPTH:
            self._depth_cuts += 1
            return None
        cuts = self._depth_cuts
        self._resolving.add(key)
        try:
            result = self._resolve(expr, scope, depth)
        finally:
            self._resolving.discard(key)
        if result is not None or cuts == self._depth_cuts:
            self._resolved[key] = (expr, scope, result)
        return result

    def _resolve(self, expr: ast.expr, scope: Scope, depth: int) -> Optional[Resolved]:
        if isinstance(expr, ast.Constant):
            return Resolved(expr.value, expr) if isinstance(expr.value, str) and expr is not UNKNOWN else None
        if isinstance(expr, ast.Name):
            return self._resolve_name(expr.id, scope, depth)
        if isinstance(expr, ast.Attribute):
            return self._resolve_attribute(expr, scope, depth)
        if isinstance(expr, ast.JoinedStr):
            return self._join(expr.values, scope, depth)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return self._join([expr.left, expr.right], scope, depth)
        if isinstance(expr, ast.Call):
            return self._call_value(expr, scope, depth)
        return None

    def resolve_bool(self, expr: ast.expr, scope: Scope, depth: int = 0) -> Optional[bool]:
        """The one bool `expr` has wherever it runs: a `True`/`False` literal, `not` of one, or a variable every
        binding of which gives the same one. A parameter (even with a default: callers may pass another value),
        an attribute (`args.strict`) or anything computed is unknown."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(expr, ast.Constant):
            return expr.value if isinstance(expr.value, bool) else None
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            inner = self.resolve_bool(expr.operand, scope, depth + 1)
            return None if inner is None else not inner
        if not isinstance(expr, ast.Name) or expr.id in self.imports:
            return None
        found = self._lookup(expr.id, scope)
        if found is None or expr.id in found[1].params:
            return None
        values = {self.resolve_bool(value, where, depth + 1) for value, where in found[0]}
        return values.pop() if len(values) == 1 else None

    def resolve_each(self, expr: ast.expr, scope: Scope, depth: int = 0) -> list[Resolved]:
        """Every statically known value an expression may take: both arms of `a if c else b`, each item a
        `for` variable takes from a literal list or dict, else its one value (`resolve`)."""
        if depth > MAX_DEPTH:
            return []
        if isinstance(expr, ast.IfExp):
            return self.resolve_each(expr.body, scope, depth + 1) + self.resolve_each(expr.orelse, scope, depth + 1)
        if isinstance(expr, LoopItem):
            return [r for item in self._loop_items(expr, scope) for r in self.resolve_each(item, scope, depth + 1)]
        if isinstance(expr, ast.Name) and expr.id not in self.imports:
            found = self._lookup(expr.id, scope)
            bindings = found[0] if found is not None else []
            # Inside a loop's body, its variable holds the loop's items, whatever else the name is bound to.
            loops = [(v, w) for v, w in bindings if isinstance(v, LoopItem) and v.contains(expr)]
            if loops or len(bindings) == 1:
                value, where = loops[-1] if loops else bindings[0]
                if isinstance(value, (ast.IfExp, LoopItem)):
                    return self.resolve_each(value, where, depth + 1)
        single = self.resolve(expr, scope, depth)
        return [single] if single is not None else []

    def _loop_items(self, loop: LoopItem, scope: Scope) -> list[ast.expr]:
        """The items a loop variable takes, when the loop runs over a literal list, tuple, set or dict (or a
        name bound once to one), or over a literal dict's `.items()`, `.keys()`, `.values()`."""
        iterable: Optional[ast.expr] = loop.iterable
        view = None
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute) and not iterable.args:
            view = iterable.func.attr
            iterable = iterable.func.value
            if view not in ("items", "keys", "values"):
                return []
        if isinstance(iterable, ast.Name):
            iterable = self._value_of(iterable, scope)
        items: list[ast.expr]
        if isinstance(iterable, ast.Dict):
            keys = [k for k in iterable.keys if k is not None]
            values = [v for k, v in zip(iterable.keys, iterable.values) if k is not None]
            if view == "items":
                items = [ast.Tuple(elts=[k, v], ctx=ast.Load()) for k, v in zip(keys, values)]
            else:
                items = values if view == "values" else keys
        elif isinstance(iterable, (ast.List, ast.Tuple, ast.Set)) and view is None:
            items = list(iterable.elts)
        else:
            return []
        for index in loop.path:
            items = [i.elts[index] for i in items if isinstance(i, (ast.Tuple, ast.List)) and index < len(i.elts)]
        return [i for i in items if not isinstance(i, ast.Starred)]

    def _call_value(self, call: ast.Call, scope: Scope, depth: int) -> Optional[Resolved]:
        """The fallback of `os.environ.get(KEY, default)` / `os.getenv(KEY, default)`, and the default of
        `typer.Option(default)` / `typer.Argument(default)`. A variable without a default stays unknown."""
        origin = self.origin(call.func) or ""
        if origin in ENV_FALLBACKS:
            default = call_argument(call, 1, "default")
            resolved = self.resolve(default, scope, depth + 1) if default is not None else None
            if resolved is None:
                return None
            key = call.args[0] if call.args else None
            variable = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
            unset = f"when ${variable} is unset" if variable else "when the variable is unset"
            return Resolved(resolved.value, resolved.literal, f"the default of {origin}(), used {unset}")
        if origin in TYPER_DEFAULTS:
            default = call_argument(call, 0, "default")
            return self.resolve(default, scope, depth + 1) if default is not None else None
        return None

    def resolve_many(self, expr: ast.expr, scope: Scope) -> list[tuple[ast.expr, Resolved]]:
        """Each statically known name in a name-or-list argument, with the expression it came from."""
        value = self._value_of(expr, scope) if isinstance(expr, ast.Name) else expr
        items = value.elts if isinstance(value, (ast.List, ast.Tuple, ast.Set)) else None
        if items is None:
            single = self.resolve(expr, scope)
            return [(expr, single)] if single else []
        found = []
        for item in items:
            for resolved in self.resolve_each(item, scope):
                found.append((item if value is expr else expr, resolved))
        return found

    def _join(self, parts: list[ast.expr], scope: Scope, depth: int) -> Optional[Resolved]:
        text = []
        for part in parts:
            if isinstance(part, ast.FormattedValue):
                if part.conversion != -1 or part.format_spec is not None:
                    return None
                part = part.value
            resolved = self.resolve(part, scope, depth + 1)
            if resolved is None:
                return None
            text.append(resolved.value)
        return Resolved("".join(text), None)

    def _agree(self, values: list[tuple[ast.expr, Scope]], depth: int) -> Optional[Resolved]:
        """The one value all these bindings give, if they agree and are all known. Stops at the first binding
        that is unknown or differs, so an unknown (a cycle, a cut) costs one path, not every branch."""
        first: Optional[Resolved] = None
        for value, scope in values:
            if value is UNKNOWN:
                return None
            resolved = self.resolve(value, scope, depth + 1)
            if resolved is None or (first is not None and resolved.value != first.value):
                return None
            first = first or resolved
        if first is None:
            return None  # no binding
        return first if len(values) == 1 else Resolved(first.value, None)

    def _lookup(self, name: str, scope: Scope) -> Optional[tuple[list[tuple[ast.expr, Scope]], Scope]]:
        """The bindings a name refers to from `scope`, following Python's scoping rules."""
        current: Optional[Scope] = scope
        while current is not None:
            if name in current.params:
                default = current.params[name]
                if default is None or name in current.bindings:
                    return None
                return [(default, current.parent or current)], current
            if name in current.bindings:
                return [(v, current) for v in current.bindings[name]], current
            current = current.parent
            while current is not None and current.is_class and current is not scope:
                current = current.parent
        return None

    def _value_of(self, name: ast.Name, scope: Scope) -> Optional[ast.expr]:
        found = self._lookup(name.id, scope)
        if found is None or len(found[0]) != 1:
            return None
        return found[0][0][0]

    def _resolve_name(self, name: str, scope: Scope, depth: int) -> Optional[Resolved]:
        if name in self.imports:
            return self.imported_value((name,), scope)
        found = self._lookup(name, scope)
        return self._agree(found[0], depth) if found else None

    def _resolve_attribute(self, expr: ast.Attribute, scope: Scope, depth: int) -> Optional[Resolved]:
        owner, attr = expr.value, expr.attr
        if isinstance(owner, ast.Name):
            cls = self.classes.get(owner.id)
            if owner.id in ("self", "cls"):
                cls = self._class_of(scope)
            if cls is not None:
                values = [(v, cls) for v in cls.bindings.get(attr, [])]
                values += [(v, cls) for v in self.instance_attrs.get(id(cls), {}).get(attr, [])]
                if values:
                    return self._agree(values, depth)
            if owner.id in self.imports:
                return self.imported_value(dotted(expr), scope)
        loose = self.loose_attrs.get(attr, [])
        if not loose and self.project is not None and not {attr, "*"} & self.assigned_attrs:
            found = self.project.attribute(attr)
            return Resolved(found.value, None, found.note, imported=True) if found is not None else None
        return self._agree(loose, depth)

    # ----------------------------------------------------------------------------------------
    # Names taken from other modules of the project

    def project_name(self, path: tuple[str, ...], scope: Scope) -> bool:
        """Whether `path[0]`, read in `scope`, is what its one import statement binds: never rebound, nor
        possibly shadowed by a star import."""
        name = path[0] if path else ""
        if self.project is None or self.star_import or len(self.import_sources.get(name, ())) != 1:
            return False
        found = self._lookup(name, scope)
        return found is not None and len(found[0]) == 1 and name not in self.declared_global

    def imported_value(self, path: tuple[str, ...], scope: Scope) -> Optional[Resolved]:
        """The string constant a project module defines, by the name this module imports it as."""
        if self.project is None or not self.project_name(path, scope):
            return None
        found = self.project.value(path)
        return Resolved(found.value, None, found.note, imported=True) if found is not None else None

    @staticmethod
    def _class_of(scope: Scope) -> Optional[Scope]:
        current: Optional[Scope] = scope
        while current is not None:
            if current.enclosing_class is not None:
                return current.enclosing_class
            current = current.parent
        return None


def dotted(expr: ast.expr) -> tuple[str, ...]:
    """`a.b.c` -> ("a", "b", "c"); () for anything else than names and attributes."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    return (expr.id, *reversed(parts)) if isinstance(expr, ast.Name) else ()


def called_name(func: ast.expr) -> Optional[str]:
    """`f` of `f(...)` and of `obj.f(...)`."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def call_argument(call: ast.Call, position: Optional[int], *keywords: str) -> Optional[ast.expr]:
    """The argument passed by one of `keywords`, else at `position` (positional arguments after a
    `*args` cannot be placed, so they are not)."""
    for keyword in call.keywords:
        if keyword.arg in keywords:
            return keyword.value
    if position is None:
        return None
    for index, value in enumerate(call.args[: position + 1]):
        if isinstance(value, ast.Starred):
            return None
    return call.args[position] if position < len(call.args) else None


def keyword_value(call: ast.Call, name: str) -> Optional[ast.expr]:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None
