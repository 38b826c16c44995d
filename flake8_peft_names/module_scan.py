"""The one pass over a module's `ast` that builds its ModuleFacts: imports, scopes, bindings, calls, and the
PEFT methods, target modules and modules_to_save the code names."""
from __future__ import annotations

import ast
from typing import Any, Callable, Iterator, Optional

from .module_facts import (
    UNKNOWN,
    FunctionNode,
    LoopItem,
    ModuleFacts,
    Scope,
    called_name,
    keyword_value,
)
from .peft_facts import LORA, LORA_ONLY_CALLS, METHODS_BY_CONFIG, METHODS_BY_TYPE, TASKS_WITH_MODULES_TO_SAVE
from .walk import CHILD_FIELDS, child_fields

# ---------------------------------------------------------------------------------------------
# The pass


def collect(tree: ast.Module) -> ModuleFacts:
    """One pass over the tree. It runs inside every flake8 run, so it visits only nodes that can hold
    something a rule reads (`walk.CHILD_FIELDS`) and does no work per node beyond a dict lookup (and, for string
    literals and reads, a list append)."""
    module = Scope(tree, None)
    facts = ModuleFacts(tree, module)
    stack: list[tuple[ast.AST, Scope]] = [(tree, module)]
    pop, push, handlers, fields_of = stack.pop, stack.append, _HANDLERS, CHILD_FIELDS
    strings, loads, load, node_type = facts.strings, facts.loads, ast.Load, ast.AST
    constant, name_node, attribute = ast.Constant, ast.Name, ast.Attribute
    while stack:
        node, scope = pop()
        kind = type(node)
        # `kind is`, not isinstance: the three commonest nodes, tested on every node (no subclasses in a tree)
        if kind is constant:
            if type(node.value) is str:  # type: ignore[attr-defined]
                strings.append(node)  # type: ignore[arg-type]
            continue
        if kind is name_node:
            if type(node.ctx) is load:  # type: ignore[attr-defined]
                loads.append((node, scope))  # type: ignore[arg-type]
            continue
        if kind is attribute and type(node.ctx) is load:  # type: ignore[attr-defined]
            loads.append((node, scope))  # type: ignore[arg-type]
        handler = handlers.get(kind)
        inner = handler(facts, node, scope) if handler else None
        fields = fields_of.get(kind)
        if fields is None:
            fields = child_fields(kind)
        if inner is None:
            for name in fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, node_type):
                            push((item, scope))
                elif isinstance(value, node_type):
                    push((value, scope))
        else:  # a def, class or lambda: its body is inside; decorators, defaults, bases are not
            body = node.body  # type: ignore[attr-defined]
            inside = {id(body)} if isinstance(node, ast.Lambda) else set(map(id, body))
            for child in ast.iter_child_nodes(node):
                push((child, inner if id(child) in inside else scope))
    return facts


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
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call):
                _click_option(decorator, inner)
    facts.scope_of[id(node)] = inner
    facts.functions.append((node, scope))
    return inner


def _click_option(decorator: ast.Call, inner: Scope) -> None:
    """`@click.option("--adapter-name", default="lora")`: the default of the parameter `adapter_name`."""
    func = decorator.func
    if not (
        isinstance(func, ast.Attribute)
        and func.attr in ("option", "argument")
        and isinstance(func.value, ast.Name)
        and func.value.id == "click"
    ):
        return
    default = keyword_value(decorator, "default")
    flags = [a.value for a in decorator.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if default is None or not flags:
        return
    bare = [f for f in flags if not f.startswith("-")]
    longs = [f for f in flags if f.startswith("--")] or flags
    name = (bare or longs)[0].lstrip("-").replace("-", "_").lower()
    if name in inner.params and inner.params[name] is None:
        inner.params[name] = default


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
        pairs = isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts)
        starred = any(isinstance(e, ast.Starred) for e in (*target.elts, *getattr(value, "elts", ())))
        for index, element in enumerate(target.elts):  # `a, b = x, y` binds each to its own; else unknown
            part = value.elts[index] if pairs and not starred else UNKNOWN  # type: ignore[attr-defined]
            _bind_target(facts, element, part, scope)
    elif isinstance(target, ast.Starred):
        _bind_target(facts, target.value, UNKNOWN, scope)
    elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
        facts.mutated.add((id(scope), target.value.id))
    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        cls = ModuleFacts._class_of(scope)
        if cls is not None:
            facts.instance_attrs.setdefault(id(cls), {}).setdefault(target.attr, []).append(value)
            facts.loose_attrs.setdefault(target.attr, []).append((value, scope))
    elif isinstance(target, ast.Attribute):
        facts.assigned_attrs.add(target.attr)  # `args.adapter_name = ...`: on an object of unknown class


def _assign(facts: ModuleFacts, node: ast.Assign, scope: Scope) -> None:
    if isinstance(node.value, ast.Call):
        facts.call_targets[id(node.value)] = node.targets
    for target in node.targets:
        _bind_target(facts, target, node.value, scope)


def _ann_assign(facts: ModuleFacts, node: ast.AnnAssign, scope: Scope) -> None:
    value = node.value
    if value is None:
        return
    if isinstance(value, ast.Call):
        facts.call_targets[id(value)] = [node.target]
    if scope.is_class and isinstance(value, ast.Call) and called_name(value.func) == "field":
        value = keyword_value(value, "default") or UNKNOWN  # dataclass field(default="x")
    _bind_target(facts, node.target, value, scope)


def _unknown_target(facts: ModuleFacts, node: ast.AST, scope: Scope) -> None:
    target = getattr(node, "target", None) or getattr(node, "optional_vars", None)
    if target is not None:
        _bind_target(facts, target, UNKNOWN, scope)


def _for(facts: ModuleFacts, node: ast.For, scope: Scope) -> None:
    """The target takes each item of the iterable: bound to a LoopItem, which `resolve_each` expands."""
    target = node.target
    if isinstance(target, ast.Name):
        scope.bind(target.id, LoopItem(node, ()))
    elif isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
        for index, element in enumerate(target.elts):
            scope.bind(element.id, LoopItem(node, (index,)))  # type: ignore[attr-defined]
    else:
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
        facts.import_sources.setdefault(local, []).append((0, facts.imports[local], None))
        scope.bind(local, UNKNOWN)


def _import_from(facts: ModuleFacts, node: ast.ImportFrom, scope: Scope) -> None:
    module = node.module or ""
    for alias in node.names:
        if alias.name == "*":
            facts.star_import = True
            continue
        local = alias.asname or alias.name
        facts.imports[local] = f"{module}.{alias.name}" if module and not node.level else alias.name
        facts.import_sources.setdefault(local, []).append((node.level, module, alias.name))
        scope.bind(local, UNKNOWN)
        if module.split(".")[0] == "peft" and alias.name in METHODS_BY_CONFIG:
            facts.config_methods.add(METHODS_BY_CONFIG[alias.name].peft_type)


def _global(facts: ModuleFacts, node: ast.Global, scope: Scope) -> None:
    facts.declared_global.update(node.names)


def _call(facts: ModuleFacts, node: ast.Call, scope: Scope) -> None:
    facts.calls.append((node, scope))
    name = called_name(node.func)
    if name in METHODS_BY_CONFIG:
        facts.config_methods.add(METHODS_BY_CONFIG[name].peft_type)
    elif name in LORA_ONLY_CALLS:
        facts.config_methods.add(LORA.peft_type)
    elif name == "add_argument":
        _argparse_option(facts, node, scope)
    elif name == "setattr" and len(node.args) >= 2:
        attr = node.args[1]
        facts.assigned_attrs.add(attr.value if isinstance(attr, ast.Constant) and isinstance(attr.value, str) else "*")
    for keyword in node.keywords:
        if keyword.arg == "peft_type":
            _peft_type(facts, keyword.value)
        elif keyword.arg == "target_modules":
            facts.target_modules.update(_plain_names(keyword.value))
            value = keyword.value
            facts.all_linear_targets |= isinstance(value, ast.Constant) and value.value == "all-linear"
        elif keyword.arg == "modules_to_save":
            unset = isinstance(keyword.value, ast.Constant) and keyword.value.value is None
            facts.mentions_modules_to_save |= not unset
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
    default = keyword_value(node, "default")
    if default is None:
        return
    dest = keyword_value(node, "dest")
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
    ast.Global: _global,
    ast.DictComp: _comprehension,
    ast.ListComp: _comprehension,
    ast.SetComp: _comprehension,
    ast.GeneratorExp: _comprehension,
}
