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
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional

from .adapter_sites import MAX_FORWARDING, forwarders
from .forwarding import Forwarder, ImportedValue
from .module_facts import UNKNOWN, ImportSource, ModuleFacts, Resolved
from .module_scan import collect
from .project import INIT, Project, find_project
from .source_files import SourceError, read_source

MAX_HOPS = MAX_FORWARDING
KEPT_TREES = 32
Member = tuple[str, Optional[str], str]  # (module shown, class or None, name) of a function or method


@dataclass(frozen=True)
class ModuleSummary:
    path: Path
    shown: str
    constants: dict[str, ImportedValue]  # module-level names, and `Class.attr` of module-level classes
    attributes: dict[str, Optional[ImportedValue]]  # what `obj.attr` is here, for any object; None: not known
    forwarders: tuple[Forwarder, ...]  # as an importer sees them: `modules` starts with this module
    members: frozenset[Member]  # the module-level functions and methods of module-level classes, defined once
    reexports: dict[str, ImportSource]  # module-level names imported once, that an importer may take from here
    imports: tuple[Path, ...]  # the project modules it imports

    def functions(self, name: str) -> tuple[Forwarder, ...]:
        return tuple(f for f in self.forwarders if f.name == name and not f.method)


class ProjectIndex:
    """The summaries of one run, by (path, content hash, hops)."""

    def __init__(self) -> None:
        self._summaries: dict[tuple[Path, bytes, int], Optional[ModuleSummary]] = {}
        self._words: dict[bytes, Words] = {}
        self._trees: dict[bytes, Optional[ast.Module]] = {}

    def words(self, raw: bytes) -> Words:
        """What a module's text may define, by the hash of its bytes."""
        key = hashlib.blake2b(raw, digest_size=16).digest()
        if key not in self._words:
            self._words[key] = _words(raw)
        return self._words[key]

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
        digest = hashlib.blake2b(raw, digest_size=16).digest()
        key = (path, digest, hops)
        if key not in self._summaries:
            tree = self._tree(path, raw, digest)
            self._summaries[key] = self._summarise(project, path, tree, hops) if tree is not None else None
        return self._summaries[key]

    def _tree(self, path: Path, raw: bytes, digest: bytes) -> Optional[ast.Module]:
        """The module's `ast`, parsed once for all its depths (the last few kept: the facts of each depth are
        built from it, never changing it)."""
        if digest not in self._trees:
            try:
                self._trees[digest] = read_source(raw, str(path)).tree
            except SourceError:
                self._trees[digest] = None
            while len(self._trees) > KEPT_TREES:
                del self._trees[next(iter(self._trees))]
        return self._trees[digest]

    def _summarise(self, project: Project, path: Path, tree: ast.Module, hops: int) -> ModuleSummary:
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
        return ModuleSummary(
            path,
            shown,
            {**_constants(facts, shown), **_class_constants(facts, shown)},
            _attributes(facts, shown),
            own,
            members,
            _reexports(facts),
            tuple(dict.fromkeys(p for p in (view.module_of(src) for src in _sources(facts)) if p is not None)),
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
        if resolved is not None:  # a value of another module names that module already
            where = f"defined as {name} in {shown}"
            found[name] = ImportedValue(resolved.value, resolved.note or where) if resolved.imported else _value(
                resolved, where
            )
    return found


def _class_constants(facts: ModuleFacts, shown: str) -> dict[str, ImportedValue]:
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


def _attributes(facts: ModuleFacts, shown: str) -> dict[str, Optional[ImportedValue]]:
    """What an attribute read on any object takes from this module: the one value all its class attributes,
    `self.` assignments and argparse options of that name agree on; None when they do not, or one is not
    known statically, or the module sets it on another object."""
    found: dict[str, Optional[ImportedValue]] = {}
    for attr, values in facts.loose_attrs.items():
        resolved = None if {attr, "*"} & facts.assigned_attrs else facts._agree(values, 0)
        found[attr] = _value(resolved, f"the value of .{attr} in {shown}") if resolved is not None else None
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


@dataclass(frozen=True)
class Words:
    """What a cheap search of a module's text says it may define: the names after `def`, and the attributes it
    may set (`name = ` or `name: T = ` at the start of an indented line, `self.name = `, an argparse option
    `--name`, `dest="name"`). A superset: only the modules it names are summarised."""

    defs: frozenset[str]
    sets: frozenset[str]


_DEF = re.compile(rb"def\s+(\w+)\s*\(")
_SETS = re.compile(rb"(?m)^[ \t]+(\w+)\s*[:=]|self\.(\w+)\s*=|--([A-Za-z][\w-]*)|dest\s*=\s*['\"](\w+)['\"]")


def _words(text: bytes) -> Words:
    sets = {g.decode("latin-1").replace("-", "_") for groups in _SETS.findall(text) for g in groups if g}
    return Words(frozenset(m.decode("latin-1") for m in _DEF.findall(text)), frozenset(sets))


class FileLookup:
    """The engine's door to the project of one checked file (engine.ProjectLookup)."""

    def __init__(self, index: ProjectIndex, project: Project, path: Path) -> None:
        self.index, self.project, self.path = index, project, path

    def view(self, facts: ModuleFacts) -> ModuleView:
        return ModuleView(self.index, self.project, self.path, facts, MAX_HOPS - 1)


class ModuleView:
    """What one module's imports name in the project (forwarding.ProjectView), summarised `hops` deep. It
    lives for one analysis of one module: each file it reads is read once."""

    def __init__(self, index: ProjectIndex, project: Project, path: Path, facts: ModuleFacts, hops: int) -> None:
        self.index, self.project, self.path, self.facts, self.hops = index, project, path, facts, hops
        self._summaries: dict[tuple[Path, int], Optional[ModuleSummary]] = {}
        self._texts: dict[Path, Words] = {}
        self._imported: Optional[list[Path]] = None
        self._methods: dict[str, tuple[Forwarder, ...]] = {}
        self._members: dict[tuple[tuple[str, ...], bool], Optional[tuple[ModuleSummary, str]]] = {}

    def value(self, path: tuple[str, ...]) -> Optional[ImportedValue]:
        found = self._member(path)
        return found[0].constants.get(found[1]) if found is not None else None

    def attribute(self, name: str) -> Optional[ImportedValue]:
        summaries = self._defining(lambda words: name in words.sets)
        values = [s.attributes[name] for s in summaries if name in s.attributes]
        known = [v for v in values if v is not None]
        if not values or len(known) != len(values) or len({v.value for v in known}) != 1:
            return None
        if len(known) > 1:
            return ImportedValue(known[0].value, f"the value of .{name} in {len(known)} modules it imports")
        return known[0]

    def functions(self, path: tuple[str, ...]) -> tuple[Forwarder, ...]:
        found = self._member(path, defines=True)
        return found[0].functions(found[1]) if found is not None else ()

    def methods(self, name: str) -> tuple[Forwarder, ...]:
        if name not in self._methods:
            self._methods[name] = self._find_methods(name)
        return self._methods[name]

    def _find_methods(self, name: str) -> tuple[Forwarder, ...]:
        if name.startswith("__"):
            return ()  # `super().__init__(...)`: every class has one; which one runs is not known here
        summaries = self._defining(lambda words: name in words.defs)
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

    def _defining(self, wanted: Callable[[Words], bool]) -> list[ModuleSummary]:
        """The summaries of the imported modules (`imported`) whose text may define what is wanted."""
        found = [self._summary(p, self.hops) for p in self.imported() if wanted(self._words(p))]
        return [s for s in found if s is not None]

    def imported(self) -> list[Path]:
        """The project modules this module imports, and those that the `__init__.py` of a package it
        imports from imports (each once)."""
        if self._imported is None:
            direct = [p for p in (self.module_of(source) for source in _sources(self.facts)) if p is not None]
            found = dict.fromkeys(p for p in direct if p.is_file())
            for path in direct:
                summary = self._summary(path, self.hops) if path.name == INIT else None
                found.update(dict.fromkeys(summary.imports if summary is not None else ()))
            self._imported = [p for p in found if p.is_file()]
        return self._imported

    def _words(self, path: Path) -> Words:
        if path not in self._texts:
            try:
                raw = path.read_bytes()
            except OSError:
                raw = b""
            self._texts[path] = self.index.words(raw)
        return self._texts[path]

    def _summary(self, path: Path, hops: int) -> Optional[ModuleSummary]:
        key = (path, hops)
        if key not in self._summaries:
            self._summaries[key] = self.index.summary(self.project, path, hops)
        return self._summaries[key]

    def module_of(self, source: ImportSource) -> Optional[Path]:
        """The project module an import statement reads: `from a import b` reads `a/b.py` when it exists,
        else `a`."""
        found = self._walk(self.path, source, ())
        return found[0] if found is not None else None

    def _member(self, path: tuple[str, ...], defines: bool = False) -> Optional[tuple[ModuleSummary, str]]:
        """The summary of the module that defines what `path` names, and its name there; with `defines`, only a
        module whose text may define a function of that name, or a package's `__init__.py` (which may pass it
        on), is summarised."""
        key = (path, defines)
        if key not in self._members:
            self._members[key] = self._find_member(path, defines)
        return self._members[key]

    def _find_member(self, path: tuple[str, ...], defines: bool) -> Optional[tuple[ModuleSummary, str]]:
        sources = self.facts.import_sources.get(path[0], []) if path else []
        if len(sources) != 1:
            return None
        importer, source, attrs, hops = self.path, sources[0], path[1:], self.hops
        while hops >= 0:
            found = self._walk(importer, source, attrs)
            if found is None or not 1 <= len(found[1]) <= 2:
                return None  # a module, or deeper than `Class.attr`
            module, rest = found
            if defines and module.name != INIT and rest[0] not in self._words(module).defs:
                return None
            summary = self._summary(module, hops)
            if summary is None:
                return None
            if rest[0] not in summary.reexports:
                return summary, ".".join(rest)
            importer, source, attrs, hops = module, summary.reexports[rest[0]], rest[1:], hops - 1  # passed on
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
