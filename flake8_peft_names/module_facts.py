"""One pass over a module's `ast`: imports, scopes, string constants and the PEFT methods in use.

Rules read these facts; nothing here reports anything. The code is never imported or run.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterator, Optional, TypeVar, Union, cast

from .peft_facts import (
    ADAPTER_LIBRARIES,
    LORA,
    LORA_ONLY_CALLS,
    METHODS_BY_CONFIG,
    METHODS_BY_TYPE,
    TASKS_WITH_MODULES_TO_SAVE,
    Method,
)

# A binding whose value cannot be known statically (loop target, import, augmented assignment, ...).
UNKNOWN = ast.Constant(value=None)
MAX_DEPTH = 12
FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]
T = TypeVar("T")


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


@dataclass(frozen=True)
class Resolved:
    """A statically known string. `literal` is where the whole string is written, if anywhere."""

    value: str
    literal: Optional[ast.Constant]


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
    modules_to_save: set[str] = field(default_factory=set)
    mentions_modules_to_save: bool = False
    biases: set[str] = field(default_factory=set)  # values of `bias=` keywords (a config's bias setting)
    expected_failures: list[tuple[ast.With, Scope]] = field(default_factory=list)  # `with pytest.raises(...)`
    _derived: dict[tuple[Callable[..., object], tuple[Hashable, ...]], object] = field(
        default_factory=dict, repr=False
    )

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
        if depth > MAX_DEPTH:
            return None
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
            resolved = self.resolve(item, scope)
            if resolved:
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
        """The one value all these bindings give, if they agree and are all known."""
        if not values or any(v is UNKNOWN for v, _ in values):
            return None
        results = [self.resolve(v, s, depth + 1) for v, s in values]
        if any(r is None for r in results) or len({r.value for r in results}) != 1:  # type: ignore[union-attr]
            return None
        first = results[0]
        return first if len(results) == 1 else Resolved(first.value, None)  # type: ignore[union-attr]

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
            return None
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
                return None
        return self._agree(self.loose_attrs.get(attr, []), depth)

    @staticmethod
    def _class_of(scope: Scope) -> Optional[Scope]:
        current: Optional[Scope] = scope
        while current is not None:
            if current.enclosing_class is not None:
                return current.enclosing_class
            current = current.parent
        return None


# ---------------------------------------------------------------------------------------------
# The pass


def collect(tree: ast.Module) -> ModuleFacts:
    """One pass over the tree. It runs inside every flake8 run, so it visits only nodes that can hold
    something a rule reads (`_CHILD_FIELDS`) and does no work per node beyond a dict lookup."""
    module = Scope(tree, None)
    facts = ModuleFacts(tree, module)
    stack: list[tuple[ast.AST, Scope]] = [(tree, module)]
    pop, push, handlers = stack.pop, stack.append, _HANDLERS
    while stack:
        node, scope = pop()
        kind = type(node)
        handler = handlers.get(kind)
        inner = handler(facts, node, scope) if handler else None
        fields = _CHILD_FIELDS.get(kind)
        if fields is None:
            fields = _CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f not in _LEAF_FIELDS)
        if inner is None:
            for name in fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, ast.AST):
                            push((item, scope))
                elif isinstance(value, ast.AST):
                    push((value, scope))
        else:  # a def, class or lambda: its body is inside; decorators, defaults, bases are not
            body = node.body  # type: ignore[attr-defined]
            inside = {id(body)} if isinstance(node, ast.Lambda) else set(map(id, body))
            for child in ast.iter_child_nodes(node):
                push((child, inner if id(child) in inside else scope))
    return facts


# Fields that never hold a node a rule reads: names, operators, expression contexts, import aliases.
_LEAF_FIELDS = frozenset(
    "ctx op ops id attr arg name names module level conversion kind type_comment is_async".split()
)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {ast.Constant: (), ast.Name: ()}


def _function(facts: ModuleFacts, node: FunctionNode, scope: Scope) -> Scope:
    inner = Scope(node, scope)
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[Optional[ast.expr]] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in zip(positional, defaults):
        inner.params[arg.arg] = default
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        inner.params[arg.arg] = default
    for extra in (args.vararg, args.kwarg):
        if extra is not None:
            inner.params[extra.arg] = None
    if not isinstance(node, ast.Lambda):
        scope.bind(node.name, UNKNOWN)
        facts.local_defs.add(node.name)
    facts.scope_of[id(node)] = inner
    facts.functions.append((node, scope))
    return inner


def _class(facts: ModuleFacts, node: ast.ClassDef, scope: Scope) -> Scope:
    inner = Scope(node, scope)
    scope.bind(node.name, UNKNOWN)
    facts.local_defs.add(node.name)
    facts.classes.setdefault(node.name, inner)
    facts.scope_of[id(node)] = inner
    return inner


def _bind_target(facts: ModuleFacts, target: ast.expr, value: ast.expr, scope: Scope) -> None:
    if isinstance(target, ast.Name):
        scope.bind(target.id, value)
        if scope.is_class:
            facts.loose_attrs.setdefault(target.id, []).append((value, scope))
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _bind_target(facts, element, UNKNOWN, scope)
    elif isinstance(target, ast.Starred):
        _bind_target(facts, target.value, UNKNOWN, scope)
    elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
        facts.mutated.add((id(scope), target.value.id))
    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        cls = ModuleFacts._class_of(scope)
        if cls is not None:
            facts.instance_attrs.setdefault(id(cls), {}).setdefault(target.attr, []).append(value)
            facts.loose_attrs.setdefault(target.attr, []).append((value, scope))


def _assign(facts: ModuleFacts, node: ast.Assign, scope: Scope) -> None:
    for target in node.targets:
        _bind_target(facts, target, node.value, scope)


def _ann_assign(facts: ModuleFacts, node: ast.AnnAssign, scope: Scope) -> None:
    value = node.value
    if value is None:
        return
    if scope.is_class and isinstance(value, ast.Call) and called_name(value.func) == "field":
        value = _keyword(value, "default") or UNKNOWN  # dataclass field(default="x")
    _bind_target(facts, node.target, value, scope)


def _unknown_target(facts: ModuleFacts, node: ast.AST, scope: Scope) -> None:
    target = getattr(node, "target", None) or getattr(node, "optional_vars", None)
    if target is not None:
        _bind_target(facts, target, UNKNOWN, scope)


def _for(facts: ModuleFacts, node: ast.For, scope: Scope) -> None:
    _unknown_target(facts, node, scope)
    facts.loops.append((node, scope))


def _with(facts: ModuleFacts, node: ast.With, scope: Scope) -> None:
    for item in node.items:
        if isinstance(item.context_expr, ast.Call) and called_name(item.context_expr.func) in _RAISES:
            facts.expected_failures.append((node, scope))
        _unknown_target(facts, item, scope)
        if item.optional_vars is not None and isinstance(node, ast.With):
            facts.with_items.append((item, scope))


def _delete(facts: ModuleFacts, node: ast.Delete, scope: Scope) -> None:
    for target in node.targets:
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            facts.mutated.add((id(scope), target.value.id))


def _return(facts: ModuleFacts, node: ast.Return, scope: Scope) -> None:
    if node.value is not None:
        facts.returns.append((node, scope))


def _import(facts: ModuleFacts, node: ast.Import, scope: Scope) -> None:
    for alias in node.names:
        local = alias.asname or alias.name.split(".")[0]
        facts.imports[local] = alias.name if alias.asname else local
        scope.bind(local, UNKNOWN)


def _import_from(facts: ModuleFacts, node: ast.ImportFrom, scope: Scope) -> None:
    module = node.module or ""
    for alias in node.names:
        if alias.name == "*":
            continue
        local = alias.asname or alias.name
        facts.imports[local] = f"{module}.{alias.name}" if module and not node.level else alias.name
        scope.bind(local, UNKNOWN)
        if module.split(".")[0] == "peft" and alias.name in METHODS_BY_CONFIG:
            facts.config_methods.add(METHODS_BY_CONFIG[alias.name].peft_type)


def _call(facts: ModuleFacts, node: ast.Call, scope: Scope) -> None:
    facts.calls.append((node, scope))
    name = called_name(node.func)
    if name in METHODS_BY_CONFIG:
        facts.config_methods.add(METHODS_BY_CONFIG[name].peft_type)
    elif name in LORA_ONLY_CALLS:
        facts.config_methods.add(LORA.peft_type)
    elif name == "add_argument":
        _argparse_option(facts, node, scope)
    for keyword in node.keywords:
        if keyword.arg == "peft_type":
            _peft_type(facts, keyword.value)
        elif keyword.arg == "target_modules":
            facts.target_modules.update(_plain_names(keyword.value))
        elif keyword.arg == "modules_to_save":
            facts.mentions_modules_to_save = True
            facts.modules_to_save.update(_plain_names(keyword.value))
        elif keyword.arg == "bias" and isinstance(keyword.value, ast.Constant):
            facts.biases.add(str(keyword.value.value))
        elif keyword.arg == "task_type":
            value = keyword.value
            task = value.value if isinstance(value, ast.Constant) else getattr(value, "attr", None)
            facts.mentions_modules_to_save |= task in TASKS_WITH_MODULES_TO_SAVE


# `with pytest.raises(E):`, `with self.assertRaises(E):`: calls in the block are expected to fail.
_RAISES = frozenset({"raises", "assertRaises", "assertRaisesRegex"})


def _comprehension(facts: ModuleFacts, node: ast.expr, scope: Scope) -> None:
    facts.comprehensions.append((node, scope))


def _argparse_option(facts: ModuleFacts, node: ast.Call, scope: Scope) -> None:
    default = _keyword(node, "default")
    if default is None:
        return
    dest = _keyword(node, "dest")
    if isinstance(dest, ast.Constant) and isinstance(dest.value, str):
        name = dest.value
    else:
        flags = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        longs = [f for f in flags if f.startswith("--")] or flags
        if not longs:
            return
        name = longs[0].lstrip("-").replace("-", "_")
    facts.loose_attrs.setdefault(name, []).append((default, scope))


def _peft_type(facts: ModuleFacts, value: ast.expr) -> None:
    text = value.value if isinstance(value, ast.Constant) else getattr(value, "attr", None)
    if isinstance(text, str) and text.upper() in METHODS_BY_TYPE:
        facts.config_methods.add(text.upper())


def _plain_names(value: ast.expr) -> Iterator[str]:
    """Module names in `target_modules=[...]`; a single string is a regex unless it is a plain name."""
    items = value.elts if isinstance(value, (ast.List, ast.Tuple, ast.Set)) else [value]
    for item in items:
        if isinstance(item, ast.Constant) and isinstance(item.value, str) and item.value.isidentifier():
            yield item.value


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


def _keyword(call: ast.Call, name: str) -> Optional[ast.expr]:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


# Each takes (facts, node of its type, scope) and returns the scope of the node's children if it opens one.
_HANDLERS: dict[type[ast.AST], Callable[[ModuleFacts, Any, Scope], Optional[Scope]]] = {
    ast.FunctionDef: _function,
    ast.AsyncFunctionDef: _function,
    ast.Lambda: _function,
    ast.ClassDef: _class,
    ast.Assign: _assign,
    ast.AnnAssign: _ann_assign,
    ast.AugAssign: _unknown_target,
    ast.NamedExpr: _unknown_target,
    ast.For: _for,
    ast.AsyncFor: _unknown_target,
    ast.With: _with,
    ast.AsyncWith: _with,
    ast.Return: _return,
    ast.Delete: _delete,
    ast.Import: _import,
    ast.ImportFrom: _import_from,
    ast.Call: _call,
    ast.DictComp: _comprehension,
    ast.ListComp: _comprehension,
    ast.SetComp: _comprehension,
    ast.GeneratorExp: _comprehension,
}
