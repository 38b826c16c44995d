"""The project analysis of `check`, `--fix` and the codemod: what the other modules of a checked file's
project tell the rules, read lazily, only for the modules the file imports and only as far as it uses them.

Each module is summarised once per run (per process) from one pass over its `ast` (never imported, never
run): its string constants, its forwarders (functions and methods that pass a parameter on as an adapter
name, adapter_sites.forwarders), the methods it defines, and the names it imports. A summary is keyed by the
file's path, the hash of its bytes and its `hops`: how many further imports deep its own analysis may look.
A checked file looks MAX_HOPS - 1 imports deep, the modules it imports one less, and so on, so that a chain
of wrappers across modules is followed as deep as one within a module, and import cycles end.

What a module takes from another: a name it imports once (`from .constants import ADAPTER_NAME`,
`from mypkg.model import wrappers`, `import mypkg.constants as c`), never rebound, in a module without a star
import, that the project defines: a module-level string constant bound once (and no function declares it
`global`), a module-level function or a method of a module-level class defined once. A package's
`__init__.py` passes on the names it imports. Methods are matched by name on any receiver (the receiver's
class is not known statically), and only when the name is defined as a method in a module this one imports
(directly, or through the `__init__.py` of a package it imports from), by no class there that does not
forward it, not differently by two classes, and not in this module.
"""
from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from .adapter_sites import MAX_FORWARDING, forwarders
from .forwarding import Forwarder, ImportedValue
from .module_facts import UNKNOWN, ImportSource, ModuleFacts
from .module_scan import collect
from .project import INIT, Project, find_project
from .source_files import SourceError, read_source

MAX_HOPS = MAX_FORWARDING
Member = tuple[str, Optional[str], str]  # (module shown, class or None, name) of a function or method


@dataclass(frozen=True)
class ModuleSummary:
    path: Path
    shown: str
    constants: dict[str, ImportedValue]
    forwarders: tuple[Forwarder, ...]  # as an importer sees them: `modules` starts with this module
    members: frozenset[Member]  # the module-level functions and methods of module-level classes, defined once
    reexports: dict[str, ImportSource]  # module-level names imported once, that an importer may take from here

    def functions(self, name: str) -> tuple[Forwarder, ...]:
        return tuple(f for f in self.forwarders if f.name == name and not f.method)


class ProjectIndex:
    """The summaries of one run, by (path, content hash, hops)."""

    def __init__(self) -> None:
        self._summaries: dict[tuple[Path, bytes, int], Optional[ModuleSummary]] = {}

    def lookup(self, path: str) -> FileLookup:
        """What the engine asks for the file at `path` (which need not exist: stdin by its display name)."""
        return FileLookup(self, find_project(path), Path(path).resolve())

    def summary(self, project: Project, path: Path, hops: int) -> Optional[ModuleSummary]:
        """The summary of a project module; None for a namespace package, or a file that cannot be parsed."""
        if hops < 0 or not path.is_file():
            return None
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        key = (path, hashlib.blake2b(raw, digest_size=16).digest(), hops)
        if key not in self._summaries:
            self._summaries[key] = self._summarise(project, path, raw, hops)
        return self._summaries[key]

    def _summarise(self, project: Project, path: Path, raw: bytes, hops: int) -> Optional[ModuleSummary]:
        try:
            tree = read_source(raw, str(path)).tree
        except SourceError:
            return None
        facts = collect(tree)
        view = ModuleView(self, project, path, facts, hops - 1)
        facts.project = view if hops > 0 else None
        shown = project.shown(path)
        members = _members(facts, shown)
        own = tuple(
            replace(f, modules=(shown, *f.modules))
            for f in forwarders(facts)
            if (shown, f.owner, f.name) in members
        )
        reexported: tuple[Forwarder, ...] = ()
        methods_there: frozenset[Member] = frozenset()
        if path.name == INIT and hops > 0:  # a package passes on the methods of the modules it imports
            reexported = tuple(f for s in view.imported_summaries() for f in s.forwarders if f.method)
            methods_there = frozenset(m for s in view.imported_summaries() for m in s.members if m[1] is not None)
        return ModuleSummary(
            path, shown, _constants(facts, shown), own + reexported, members | methods_there, _reexports(facts)
        )


def _sources(facts: ModuleFacts) -> list[ImportSource]:
    return [source for sources in facts.import_sources.values() for source in sources]


def _bound_once(facts: ModuleFacts) -> dict[str, ast.expr]:
    scope = facts.module_scope
    return {
        name: values[0]
        for name, values in scope.bindings.items()
        if len(values) == 1 and name not in facts.declared_global and (id(scope), name) not in facts.mutated
    }


def _constants(facts: ModuleFacts, shown: str) -> dict[str, ImportedValue]:
    found: dict[str, ImportedValue] = {}
    for name, value in _bound_once(facts).items():
        if value is UNKNOWN:
            continue  # a def, a class, an import (passed on by `reexports`), an unpacked tuple ...
        resolved = facts.resolve(ast.Name(id=name, ctx=ast.Load()), facts.module_scope)
        if resolved is not None:
            where = f"defined as {name} in {shown}"
            note = resolved.note if resolved.imported else "; ".join(n for n in (resolved.note, where) if n)
            found[name] = ImportedValue(resolved.value, note or where)
    return found


def _reexports(facts: ModuleFacts) -> dict[str, ImportSource]:
    if facts.star_import:
        return {}
    bound = _bound_once(facts)
    return {
        name: sources[0]
        for name, sources in facts.import_sources.items()
        if len(sources) == 1 and bound.get(name) is UNKNOWN
    }


def _members(facts: ModuleFacts, shown: str) -> frozenset[Member]:
    """Module-level functions and methods of module-level classes, each name defined once in its scope."""
    module = facts.module_scope
    found: set[Member] = set()
    for function, scope in facts.functions:
        if isinstance(function, ast.Lambda) or len(scope.bindings.get(function.name, ())) != 1:
            continue  # a lambda, or a name bound again in its scope
        if scope is module:
            found.add((shown, None, function.name))
        elif isinstance(scope.node, ast.ClassDef) and scope.parent is module:
            if len(module.bindings.get(scope.node.name, ())) == 1:
                found.add((shown, scope.node.name, function.name))
    return frozenset(found)


class FileLookup:
    """The engine's door to the project of one checked file (engine.ProjectLookup)."""

    def __init__(self, index: ProjectIndex, project: Project, path: Path) -> None:
        self.index, self.project, self.path = index, project, path

    def view(self, facts: ModuleFacts) -> ModuleView:
        return ModuleView(self.index, self.project, self.path, facts, MAX_HOPS - 1)


class ModuleView:
    """What one module's imports name in the project (forwarding.ProjectView), summarised `hops` deep."""

    def __init__(self, index: ProjectIndex, project: Project, path: Path, facts: ModuleFacts, hops: int) -> None:
        self.index, self.project, self.path, self.facts, self.hops = index, project, path, facts, hops
        self._imported: Optional[list[ModuleSummary]] = None

    def value(self, path: tuple[str, ...]) -> Optional[ImportedValue]:
        found = self._member(path)
        return found[0].constants.get(found[1]) if found is not None else None

    def functions(self, path: tuple[str, ...]) -> tuple[Forwarder, ...]:
        found = self._member(path)
        return found[0].functions(found[1]) if found is not None else ()

    def methods(self, name: str) -> tuple[Forwarder, ...]:
        summaries = [s for s in self.imported_summaries() if any(m[2] == name and m[1] for m in s.members)]
        defined = {(m[0], m[1]) for s in summaries for m in s.members if m[2] == name and m[1] is not None}
        groups: dict[tuple[str, Optional[str]], set[Forwarder]] = {}
        for summary in summaries:
            for f in summary.forwarders:
                if f.method and f.name == name:
                    groups.setdefault((f.modules[0], f.owner), set()).add(f)
        if not defined or set(groups) != defined:
            return ()  # some class defines the name without forwarding it: the receiver may be of that class
        shapes = {frozenset((f.position, f.param) for f in group) for group in groups.values()}
        if len(shapes) != 1:
            return ()
        first = min(groups)
        return tuple(sorted(groups[first], key=lambda f: (f.param, f.api.name)))

    def imported_summaries(self) -> list[ModuleSummary]:
        """The summaries of the project modules this module imports, and of the modules a package's
        `__init__.py` it imports from imports (each once)."""
        if self._imported is None:
            seen: dict[Path, ModuleSummary] = {}
            for source in _sources(self.facts):
                found = self.module_of(source)
                summary = self.index.summary(self.project, found, self.hops) if found is not None else None
                if summary is not None:
                    seen.setdefault(summary.path, summary)
            self._imported = list(seen.values())
        return self._imported

    def module_of(self, source: ImportSource) -> Optional[Path]:
        """The project module an import statement reads: `from a import b` reads `a/b.py` when it exists,
        else `a`."""
        found = self._walk(self.path, source, ())
        return found[0] if found is not None else None

    def _member(self, path: tuple[str, ...]) -> Optional[tuple[ModuleSummary, str]]:
        """The summary of the module that defines what `path` names, and its name there."""
        sources = self.facts.import_sources.get(path[0], []) if path else []
        if len(sources) != 1:
            return None
        importer, source, attrs, hops = self.path, sources[0], path[1:], self.hops
        while hops >= 0:
            found = self._walk(importer, source, attrs)
            if found is None or len(found[1]) != 1:
                return None
            module, (name,) = found
            summary = self.index.summary(self.project, module, hops)
            if summary is None:
                return None
            if name not in summary.reexports:
                return summary, name
            importer, source, attrs, hops = module, summary.reexports[name], (), hops - 1  # a package's name
        return None

    def _walk(
        self, importer: Path, source: ImportSource, attrs: tuple[str, ...]
    ) -> Optional[tuple[Path, tuple[str, ...]]]:
        """The deepest module `source` and `attrs` name, and the attributes left after it."""
        level, module, name = source
        parts = module.split(".") if module else []
        found = self.project.locate(importer, level, parts)
        if found is None:
            return None
        rest = [*([name] if name else []), *attrs]
        while rest:
            deeper = self.project.locate(importer, level, [*parts, rest[0]])
            if deeper is None:
                break
            parts.append(rest.pop(0))
            found = deeper
        return found, tuple(rest)
