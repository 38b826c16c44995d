"""The project pass's other direction: who calls a checked module's functions from the other modules of its
project (module_facts.Callers), for the state-dict facts. Read, never imported or run, and only when asked:
the state-dict facts ask about a function only when its parameter is the source of a candidate filter that
no call in the module explains, or when a filtered collection is returned from it and no call in the module
uses the result.

Finding the callers of `name` takes three steps, each done only for what the one before leaves: a regex pass
over the text of the project's Python files (the root's tree, without what `check FOLDER` skips: virtual
environments, build output, caches), keeping those that call the name (`name(`, `.name(`) and whose import
statements name the checked module or the name itself (for a method, the checked module or a class of it
that defines the method); one `ast` pass over each of those (module_scan.collect, once per file content);
then the calls that name the function:

- a module-level function counts when the caller imports it from the checked module (`from .utils import
  helper`, `from pkg import utils` then `utils.helper(...)`, or through a package's `__init__.py` that passes
  it on), by a name imported once and not bound again where the call is;
- a method counts by name on any receiver (its class is not known statically), only in a module that imports
  the checked module (directly, or through the `__init__.py` of a package it imports from), when one class of
  the checked module defines it, no other file of the project defines a function or method of that name
  (`def name(`), and it is not a dunder or a method name every model, dict or trainer has.

Unknown stays unknown: a file that holds the word but cannot be read or parsed, or that star-imports and calls
the name without importing it, makes every caller unknown (none is returned); so does a project with more
than MAX_PROJECT_FILES Python files. Each search is made once per run (per worker process).
"""
from __future__ import annotations

import ast
import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .discovery import skipped_dir
from .module_facts import ForeignCall, ImportSource, ModuleFacts, Scope
from .module_scan import collect
from .project import INIT, Project
from .project_index import FileLookup, ModuleView, ProjectIndex, _walk

MAX_PROJECT_FILES = 5000
KEPT_MODULES = 32  # the caller modules' facts kept for the run, the most recently used
MAX_REEXPORTS = 3  # `__init__.py` files passing a function on, followed from a caller's import
# Method names every model, dict, optimizer or trainer has: a call of one says nothing of the receiver's class.
COMMON_METHODS = frozenset(
    "state_dict load_state_dict named_parameters parameters save_pretrained from_pretrained save load update get "
    "items keys values pop copy forward step train eval to cuda cpu run call apply setdefault append extend "
    "add_adapter load_adapter set_adapter save_model".split()
)


class _RunStore:
    """What one run has found of one project's files (ProjectIndex.kept)."""

    def __init__(self) -> None:
        self.files: dict[Path, Optional[tuple[Path, ...]]] = {}
        self.mentions: dict[tuple[Path, str], Optional[tuple[Mention, ...]]] = {}
        self.modules: OrderedDict[tuple[Path, bytes], Optional[ModuleFacts]] = OrderedDict()


def project_lookup(index: ProjectIndex, path: str) -> FileLookup:
    """The engine's door to the project of one checked file: what its imports name (project_index.py) and who
    calls its functions (this module)."""
    return _CallersLookup(index, path)


class _CallersLookup(FileLookup):
    def view(self, facts: ModuleFacts) -> ModuleView:
        view = super().view(facts)
        facts.across = ProjectCallers(self.index, view.project, view.path, facts)
        return view


class ProjectCallers:
    """module_facts.Callers for one checked module; remembers what it found."""

    def __init__(self, index: ProjectIndex, project: Project, path: Path, facts: ModuleFacts) -> None:
        self.index, self.project, self.path, self.facts = index, project, path, facts
        self.store = index.kept(_RunStore)  # of the project being checked, as ProjectIndex's own reads
        self._found: dict[tuple[str, bool], tuple[ForeignCall, ...]] = {}

    def calls(self, name: str, method: bool) -> tuple[ForeignCall, ...]:
        key = (name, method)
        if key not in self._found:
            self._found[key] = self._calls(name, method)
        return self._found[key]

    def _calls(self, name: str, method: bool) -> tuple[ForeignCall, ...]:
        if method and (name.startswith("__") or name in COMMON_METHODS or not self._one_method(name)):
            return ()
        mentions = self._mentioning(name)
        if mentions is None:
            return ()
        if method and any(m.defines for m in mentions):
            return ()  # another module defines a function or method so named: the receiver may be its class
        stem = self.path.parent.name if self.path.name == INIT else self.path.stem
        # what an import of the checked module (or of the name from it) names: its module, or the name itself,
        # for a method the classes that define it
        needed = {stem, name} if not method else {stem, *self._owners(name)}
        found: list[ForeignCall] = []
        for mention in mentions:
            if not mention.calls or not needed & mention.imported:
                continue  # neither calls the name nor imports what could bring it: not parsed
            path = mention.path
            facts = self._module(path)
            if facts is None:
                return ()  # a caller we cannot read: every caller is unknown
            calls = self._method_calls(path, facts, name) if method else self._function_calls(path, facts, name)
            if calls is None:
                return ()
            shown = self.project.shown(path)
            found += [ForeignCall(facts, call, scope, shown) for call, scope in calls]
        return tuple(found)

    # -----------------------------------------------------------------------------------------------
    # Which calls are of the checked module's function

    def _function_calls(
        self, path: Path, facts: ModuleFacts, name: str
    ) -> Optional[list[tuple[ast.Call, Scope]]]:
        found = []
        for call, scope in facts.calls:
            dotted = _dotted(call.func)
            if dotted is None:
                continue
            if dotted == [name] and facts.star_import and name not in facts.import_sources:
                if name not in facts.local_defs:
                    return None  # may come from the star import: unknown
                continue
            if self._may_name(facts, dotted, name) and self._names_function(path, facts, dotted, name, scope):
                found.append((call, scope))
        return found

    @staticmethod
    def _may_name(facts: ModuleFacts, dotted: list[str], name: str) -> bool:
        """`name(...)`, `module.name(...)`, or a name imported as another (`from .utils import name as n`)."""
        if dotted[-1] == name:
            return True
        sources = facts.import_sources.get(dotted[0], []) if len(dotted) == 1 else []
        return any(source[2] == name for source in sources)

    def _names_function(
        self, path: Path, facts: ModuleFacts, dotted: list[str], name: str, scope: Scope
    ) -> bool:
        """`dotted` (as called in `scope`) is the checked module's function, imported once and not rebound."""
        sources = facts.import_sources.get(dotted[0], [])
        if len(sources) != 1:
            return False
        bound = facts._lookup(dotted[0], scope)
        if bound is None or bound[1] is not facts.module_scope or len(bound[0]) != 1:
            return False
        place = self._place(path, sources[0], tuple(dotted[1:]))
        return place == (self.path, (name,))

    def _place(
        self, importer: Path, source: ImportSource, attrs: tuple[str, ...]
    ) -> Optional[tuple[Path, tuple[str, ...]]]:
        """The module an import and the attributes read after it name, through `__init__.py` files that pass
        the name on."""
        for _ in range(MAX_REEXPORTS + 1):
            found = _walk(self.project, importer, source, attrs)
            if found is None:
                return None
            module, rest = found
            if module.name != INIT or not rest:
                return found
            table = self.index.table(self.project, module)
            if table is None or rest[0] not in table.reexports:
                return found
            importer, source, attrs = module, table.reexports[rest[0]], rest[1:]
        return None

    def _method_calls(self, path: Path, facts: ModuleFacts, name: str) -> Optional[list[tuple[ast.Call, Scope]]]:
        if name in facts.local_defs or not self._imports_checked(path, facts):
            return []
        table = self.index.table(self.project, path)
        others = [p for p in (table.imports if table is not None else ()) if p != self.path and p.is_file()]
        if any(name in self.index.words(p).defs for p in others):
            return None  # another module the caller imports defines it too: the receiver may be of that class
        return [
            (call, scope)
            for call, scope in facts.calls
            if isinstance(call.func, ast.Attribute) and call.func.attr == name
        ]

    def _imports_checked(self, path: Path, facts: ModuleFacts) -> bool:
        for sources in facts.import_sources.values():
            for source in sources:
                found = self._place(path, source, ())
                if found is None:
                    continue
                if found[0] == self.path:
                    return True
                table = self.index.table(self.project, found[0]) if found[0].name == INIT else None
                if table is not None and self.path in table.imports:
                    return True
        return False

    def _one_method(self, name: str) -> bool:
        """One module-level class of the checked module defines the method, and no module-level function
        shares its name."""
        return len(self._owners(name)) == 1 and name not in self.facts.module_scope.bindings

    def _owners(self, name: str) -> list[str]:
        """The module-level classes of the checked module that define a method so named."""
        module = self.facts.module_scope
        return [
            getattr(scope.node, "name", "")
            for function, scope in self.facts.functions
            if getattr(function, "name", None) == name and scope.is_class and scope.parent is module
        ]

    # -----------------------------------------------------------------------------------------------
    # The project's files, searched and read once per run

    def _mentioning(self, name: str) -> Optional[tuple[Mention, ...]]:
        """The project's Python files, other than the checked one, whose text holds `name` as a word."""
        key = (self.project.root, name)
        if key not in self.store.mentions:
            files = self._files()
            self.store.mentions[key] = None if files is None else _mentions(files, name)
        found = self.store.mentions[key]
        return None if found is None else tuple(m for m in found if m.path != self.path)

    def _files(self) -> Optional[tuple[Path, ...]]:
        root = self.project.root
        if root not in self.store.files:
            self.store.files[root] = _python_files(root)
        return self.store.files[root]

    def _module(self, path: Path) -> Optional[ModuleFacts]:
        digest = self.index.digest(path)
        if digest is None:
            return None
        key = (path, digest)
        modules = self.store.modules
        if key in modules:
            modules.move_to_end(key)
            return modules[key]
        tree = self.index.tree(path)
        modules[key] = collect(tree) if tree is not None else None
        while len(modules) > KEPT_MODULES:
            modules.popitem(last=False)
        return modules[key]


@dataclass(frozen=True)
class Mention:
    """What the text of a file that holds a name as a word says of it, by regexes alone."""

    path: Path
    calls: bool  # `name(` or `.name(` (or the name imported, maybe under another name)
    defines: bool  # `def name(`
    imported: frozenset[str]  # the words of its import statements


_IMPORTS = re.compile(rb"(?m)^[ \t]*(?:from[ \t]+[.\w]+[ \t]+import[ \t]+(?:\([^)]*\)|[^\n]*)|import[ \t]+[^\n]*)")
_WORD = re.compile(rb"\w+")


def _mentions(files: tuple[Path, ...], name: str) -> tuple[Mention, ...]:
    raw = name.encode()
    word = re.compile(rb"\b" + re.escape(raw) + rb"\b")
    call = re.compile(rb"\b" + re.escape(name.encode()) + rb"[ \t]*\(")
    define = re.compile(rb"\bdef[ \t]+" + re.escape(name.encode()) + rb"[ \t]*\(")
    found = []
    for path in files:
        try:
            text = path.read_bytes()
        except OSError:
            continue
        if raw not in text or word.search(text) is None:  # a substring test first: far cheaper than the regex
            continue
        imported = frozenset(w.decode("latin-1") for m in _IMPORTS.findall(text) for w in _WORD.findall(m))
        defines = define.search(text) is not None
        calls = call.search(text) is not None and (not defines or len(call.findall(text)) > len(define.findall(text)))
        found.append(Mention(path, calls or name in imported, defines, imported))
    return tuple(found)


def _python_files(root: Path) -> Optional[tuple[Path, ...]]:
    """Every `.py` file under the root that `check FOLDER` would walk into; None past MAX_PROJECT_FILES."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not skipped_dir(folder, d))
        found += [Path(folder, f) for f in sorted(files) if f.endswith(".py")]
        if len(found) > MAX_PROJECT_FILES:
            return None
    return tuple(found)


def _dotted(func: ast.expr) -> Optional[list[str]]:
    """`helper` -> ["helper"], `utils.helper` -> ["utils", "helper"]; None for anything else."""
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    return [func.id, *reversed(parts)]
