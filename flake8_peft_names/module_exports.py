"""What a module offers the modules that import it, as the project analysis (project_index.py) reads it from the
module's facts: its module-level functions and methods, the names it passes on, its string constants, and the
values its attributes take."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .forwarding import Forwarder, ImportedValue
from .module_facts import UNKNOWN, ImportSource, ModuleFacts, Resolved

Member = tuple[Optional[str], str]  # (class or None, name) of a module-level function or method


@dataclass(frozen=True)
class ModuleTable:
    """What one pass over a module's `ast` says, however deep it is read."""

    members: frozenset[Member]  # module-level functions and methods of module-level classes, defined once
    reexports: dict[str, ImportSource]  # module-level names imported once, that an importer may take from here
    imports: tuple[Path, ...]  # the project modules it imports


@dataclass(frozen=True)
class ModuleSummary:
    """What a module defines, read `hops` imports deep."""

    constants: dict[str, ImportedValue]  # module-level names, and `Class.attr` of module-level classes
    attributes: dict[str, Optional[ImportedValue]]  # what `obj.attr` is here, for any object; None: not known
    forwarders: tuple[Forwarder, ...]  # as an importer sees them: `modules` starts with this module

    def functions(self, name: str) -> tuple[Forwarder, ...]:
        return tuple(f for f in self.forwarders if f.name == name and not f.method)


def _bound_once(facts: ModuleFacts) -> dict[str, ast.expr]:
    scope = facts.module_scope
    return {
        name: values[0]
        for name, values in scope.bindings.items()
        if len(values) == 1 and name not in facts.declared_global and (id(scope), name) not in facts.mutated
    }


def constants(facts: ModuleFacts, shown: str) -> dict[str, ImportedValue]:
    found: dict[str, ImportedValue] = {}
    for name, value in _bound_once(facts).items():
        if value is UNKNOWN:
            continue  # a def, a class, an import (passed on by `reexports`), an unpacked tuple ...
        resolved = facts.resolve(ast.Name(id=name, ctx=ast.Load()), facts.module_scope)
        if resolved is not None:  # a value of another module names that module already
            where = f"defined as {name} in {shown}"
            found[name] = ImportedValue(resolved.value, resolved.note or where) if resolved.imported else _value(
                resolved, where
            )
    return found


def class_constants(facts: ModuleFacts, shown: str) -> dict[str, ImportedValue]:
    """`Class.attr` of each module-level class bound once: its class attributes bound once (a dataclass
    field's default), when nothing in the module sets that attribute elsewhere."""
    found: dict[str, ImportedValue] = {}
    for name, value in _bound_once(facts).items():
        cls = facts.classes.get(name)
        if value is not UNKNOWN or cls is None or cls.parent is not facts.module_scope:
            continue
        changed = facts.instance_attrs.get(id(cls), {})
        for attr, values in cls.bindings.items():
            if len(values) != 1 or attr in changed or {attr, "*"} & facts.assigned_attrs:
                continue
            resolved = facts.resolve(values[0], cls)
            if resolved is not None:
                found[f"{name}.{attr}"] = _value(resolved, f"defined as {name}.{attr} in {shown}")
    return found


def _value(resolved: Resolved, where: str) -> ImportedValue:
    return ImportedValue(resolved.value, "; ".join(n for n in (resolved.note, where) if n))


def attributes(facts: ModuleFacts, shown: str) -> dict[str, Optional[ImportedValue]]:
    """What an attribute read on any object takes from this module: the one value all its class attributes,
    `self.` assignments and argparse options of that name agree on; None when they do not, or one is not
    known statically, or the module sets it on another object."""
    found: dict[str, Optional[ImportedValue]] = {}
    for attr, values in facts.loose_attrs.items():
        resolved = None if {attr, "*"} & facts.assigned_attrs else facts._agree(values, 0)
        found[attr] = _value(resolved, f"the value of .{attr} in {shown}") if resolved is not None else None
    for cls in facts.classes.values():  # a field without a default (`adapter_name: str`): set by the caller
        for statement in getattr(cls.node, "body", ()):
            if isinstance(statement, ast.AnnAssign) and statement.value is None:
                if isinstance(statement.target, ast.Name):
                    found[statement.target.id] = None
    return found


def reexports(facts: ModuleFacts) -> dict[str, ImportSource]:
    if facts.star_import:
        return {}
    bound = _bound_once(facts)
    return {
        name: sources[0]
        for name, sources in facts.import_sources.items()
        if len(sources) == 1 and bound.get(name) is UNKNOWN
    }


def members(facts: ModuleFacts) -> frozenset[Member]:
    """Module-level functions and methods of module-level classes, each name defined once in its scope."""
    module = facts.module_scope
    found: set[Member] = set()
    for function, scope in facts.functions:
        if isinstance(function, ast.Lambda) or len(scope.bindings.get(function.name, ())) != 1:
            continue  # a lambda, or a name bound again in its scope
        if scope is module:
            found.add((None, function.name))
        elif isinstance(scope.node, ast.ClassDef) and scope.parent is module:
            if len(module.bindings.get(scope.node.name, ())) == 1:
                found.add((scope.node.name, function.name))
    return frozenset(found)
