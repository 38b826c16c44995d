"""The project analysis of `check`, `--fix` and the codemod: what the other modules of a checked file's
project tell the rules, read lazily, only for the modules the file imports and only as far as it uses them.

Modules are read (never imported, never run) in three steps, each done only when the one before says it may
matter: `Words`, a regex pass over the text (project_text.py: the names a module may define or set, whether
it may call the API, what it may import); `ModuleTable`, one pass
over its `ast` (its functions and methods, the names it passes on, the project modules it imports);
`ModuleSummary`, its string constants, attribute values and forwarders (functions and methods that pass a
parameter on as an adapter name, adapter_sites.forwarders). Each is made once per run (per process), by the
hash of the file's bytes; a summary also by its `hops`: how many further imports deep its own analysis may
look. A checked file looks MAX_HOPS - 1 imports deep, the modules it imports one less, and so on, so that a
chain of wrappers across modules is followed as deep as one within a module, and import cycles end.

What a module takes from another: a name it imports once (`from .constants import ADAPTER_NAME`,
`from mypkg.model import wrappers`, `import mypkg.constants as c`), never rebound, in a module without a star
import, that the project defines: a module-level string constant bound once (and no function declares it
`global`), a class attribute, a module-level function or a method of a module-level class defined once. A
package's `__init__.py` passes on the names it imports. Methods are matched by name on any receiver (the
receiver's class is not known statically), and only when the name is defined as a method in a module this one
imports (directly, or through the `__init__.py` of a package it imports from), by no class there that does
not forward it, not differently by two classes, and not in this module.
"""
from __future__ import annotations

import ast
import hashlib
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional, Sequence, TypeVar, cast

from .adapter_sites import API_WORDS, MAX_FORWARDING, forwarders
from .forwarding import Forwarder, ImportedValue
from .module_facts import ImportSource, ModuleFacts
from .module_exports import (
    ModuleSummary,
    ModuleTable,
    attributes,
    class_constants,
    constants,
    members,
    reexports,
)
from .module_scan import collect
from .project import INIT, Project, find_project
from .project_text import (
    NO_ASSIGNMENTS,
    NO_WORDS,
    Assignments,
    TextImport,
    Words,
    assignments_of,
    function_words,
    words_of,
)
from .source_files import SourceError, read_source

MAX_HOPS = MAX_FORWARDING
# What is read of a project is kept while its files are checked, and for the project checked just before it
# (a folder may hold a nested project, a vendored package, and then go back to its own): memory grows with
# this bound, never with the number of projects a run checks.
KEPT_PROJECTS = 2
T = TypeVar("T")


Reach = tuple[tuple[Path, Optional[frozenset[str]]], ...]  # a module, and the names taken from it (None: any)
FunctionText = tuple[bool, frozenset[str]]  # whether a function's text names the API; the names in it that matter
MethodModules = tuple[tuple[Path, frozenset[str]], ...]  # ProjectIndex.method_modules


class _Reads:
    """What a run has read of one project's modules, by content hash."""

    def __init__(self) -> None:
        self.words: dict[bytes, Words] = {}
        self.assignments: dict[bytes, Assignments] = {}
        self.tables: dict[tuple[Path, bytes], Optional[ModuleTable]] = {}
        self.summaries: dict[tuple[Path, bytes, int], Optional[ModuleSummary]] = {}
        self.digests: dict[Path, tuple[int, int, int, bytes]] = {}
        self.direct_imports: dict[tuple[Path, bytes], tuple[Path, ...]] = {}
        self.forwarding: dict[tuple[Path, bytes, int, Optional[frozenset[str]]], bool] = {}
        self.function_words: dict[tuple[Path, bytes], dict[str, FunctionText]] = {}
        self.function_forwarding: dict[tuple[Path, bytes, int, str], bool] = {}
        self.method_modules: dict[tuple[Path, bytes], MethodModules] = {}
        self.function_texts: dict[tuple[Path, bytes, str], Optional[FunctionText]] = {}
        self.bindings: dict[tuple[Path, bytes], dict[str, Reach]] = {}
        self.extras: dict[object, object] = {}


class ProjectIndex:
    """What one run has read of the modules of its projects, by content hash."""

    def __init__(self, recheck: bool = True) -> None:
        # Whether a module's file is looked at again for each checked file (`new_epoch`): a run that writes
        # files (`--fix`, the codemod) reads what it wrote; one that writes none reads each module once.
        self.recheck = recheck
        self.root: Optional[Path] = None  # the project of the file checked last
        self._epoch = 0  # one per checked file: a module's digest is checked against its file once per epoch
        self._reads = _Reads()  # of the project `root`
        self._kept: OrderedDict[Optional[Path], _Reads] = OrderedDict()  # the others of the last KEPT_PROJECTS

    def kept(self, make: Callable[[], T]) -> T:
        """What another module keeps of the current project (project_callers.py), made by `make` once."""
        extras = self._reads.extras
        if make not in extras:
            extras[make] = make()
        return cast(T, extras[make])

    def words(self, path: Path) -> Words:
        return self._read(self._reads.words, path, words_of, NO_WORDS)

    def assignments(self, path: Path) -> Assignments:
        return self._read(self._reads.assignments, path, assignments_of, NO_ASSIGNMENTS)

    def _read(self, made: dict[bytes, T], path: Path, make: Callable[[bytes], T], unread: T) -> T:
        """What `make` says of the module's text, once per content."""
        digest = self.digest(path)
        if digest is None:
            return unread
        if digest not in made:
            made[digest] = make(path.read_bytes())
        return made[digest]

    def table(self, project: Project, path: Path) -> Optional[ModuleTable]:
        """None for a namespace package, or a file that cannot be read or parsed."""
        digest = self.digest(path)
        key = (path, digest or b"")
        if digest is not None and key not in self._reads.tables:
            tree = self.tree(path)
            self._reads.tables[key] = _table(project, path, collect(tree)) if tree is not None else None
        return self._reads.tables.get(key)

    def may_forward(
        self, project: Project, path: Path, hops: int, names: Optional[frozenset[str]] = None
    ) -> bool:
        """Whether the module, read `hops` deep, may have forwarders (of `names`, for a package's `__init__.py`
        that passes names on): its text names the API, or (`hops` > 0) it imports a module that may, one less
        deep (`reach`; a name passed on by an `__init__.py` costs a depth, as `ModuleView._find_place` counts
        it). From the texts alone, a superset: a module of which it is not true is never parsed for its
        forwarders."""
        digest = self.digest(path)
        if digest is None:
            return False
        words = self.words(path)
        if names is not None and (path.name != INIT or names & words.defs):
            names = None  # a module's own functions may call anything it imports
        key = (path, digest, hops, names)
        if key not in self._reads.forwarding:
            reach = self.reach(project, path, names) if hops > 0 and not words.api else ()
            self._reads.forwarding[key] = words.api or any(self.may_forward(project, p, hops - 1, n) for p, n in reach)
        return self._reads.forwarding[key]

    def may_forward_function(self, project: Project, path: Path, hops: int, name: str) -> bool:
        """Whether the function (or method) `name` of the module, read `hops` deep, may forward: the text of it,
        and of the module's functions it names (and so on: project_text.function_words), names the API; or
        (`hops` > 0) a name the module imports from a module where that may hold one less deep, or a method the
        modules it imports may forward (`method_modules`). A superset, per function, of `may_forward`:
        calls are written in the function that makes them."""
        if not self.may_forward(project, path, hops):
            return False
        key = (path, self.digest(path) or b"", hops, name)
        if key not in self._reads.function_forwarding:
            self._reads.function_forwarding[key] = self._may_forward_function(project, path, hops, name)
        return self._reads.function_forwarding[key]

    def _may_forward_function(self, project: Project, path: Path, hops: int, name: str) -> bool:
        text = self._function_text(project, path, name)
        if text is None or text[0]:
            return True  # a name the text search finds no function of, or one that names the API
        if hops == 0:
            return False  # read without the project: only its own functions
        modules = self._method_modules(project, path)
        if any(self.method_may_forward(project, modules, n) for n in text[1]):
            return True
        bindings = self._bindings(project, path)
        for bound in (*(bindings.keys() & text[1]), *(("*",) if "*" in bindings else ())):
            for module, taken in bindings[bound]:
                if taken is None or module.name == INIT:
                    if self.may_forward(project, module, hops - 1, taken):
                        return True
                elif any(self.may_forward_function(project, module, hops - 1, n) for n in taken):
                    return True
        return False

    def _function_text(self, project: Project, path: Path, name: str) -> Optional[FunctionText]:
        """What the text of the function, and of the module's functions it names (and so on), holds; None when
        one of them has no text the search can delimit."""
        key = (path, self.digest(path) or b"", name)
        if key not in self._reads.function_texts:
            defs, texts = self.words(path).defs, self._function_texts(project, path)
            api, names, todo, seen = False, set[str](), [name], {name}
            text: Optional[FunctionText] = None
            while todo:
                text = texts.get(todo.pop())
                if text is None:
                    break
                api, names = api or text[0], names | text[1]
                todo += [n for n in text[1] & defs if n not in seen]
                seen.update(todo)
            self._reads.function_texts[key] = (api, frozenset(names)) if text is not None else None
        return self._reads.function_texts[key]

    def _function_texts(self, project: Project, path: Path) -> dict[str, FunctionText]:
        """Of each function's text (project_text.function_words): whether it names the API (or a name the module
        imports the API under), and the names it holds that matter here: the module's functions, the names it
        imports, the methods it may call that may forward."""
        key = (path, self.digest(path) or b"")
        if key not in self._reads.function_words:
            words = self.words(path)
            aliases = {b for i in words.imports for n, b in zip(i.names, i.bound) if n in API_WORDS}
            methods = (defs for _, defs in self._method_modules(project, path))
            kept = words.defs.union(*(i.bound for i in words.imports), *methods)
            texts = function_words(path.read_bytes()) if key[1] else {}
            self._reads.function_words[key] = {
                name: (not text.isdisjoint(API_WORDS) or not text.isdisjoint(aliases), text & kept)
                for name, text in texts.items()
            }
        return self._reads.function_words[key]

    def _bindings(self, project: Project, path: Path) -> dict[str, Reach]:
        """What each name the module's text imports may name (`reach` of that name alone); "*" for star imports."""
        key = (path, self.digest(path) or b"")
        if key not in self._reads.bindings:
            found: dict[str, list[tuple[Path, Optional[frozenset[str]]]]] = {}
            for imported in self.words(path).imports:
                for bound in imported.bound if not imported.star else ("*",):
                    found.setdefault(bound, []).extend(self.reach(project, path, frozenset({bound}), (imported,)))
            self._reads.bindings[key] = {bound: tuple(modules) for bound, modules in found.items()}
        return self._reads.bindings[key]

    def _method_modules(self, project: Project, path: Path) -> MethodModules:
        key = (path, self.digest(path) or b"")
        if key not in self._reads.method_modules:
            self._reads.method_modules[key] = self.method_modules(project, self.direct_imports(project, path))
        return self._reads.method_modules[key]

    def method_modules(self, project: Project, paths: Sequence[Path]) -> MethodModules:
        """Of the modules a module may import (and those the `__init__.py` among them import), those whose text
        names the API, with the names they define: where a method it calls may forward (methods are read one
        module deep: `ModuleView._find_methods`)."""
        found = ((p, self.words(p)) for p in with_inits_imports(self, project, paths))
        return tuple((p, words.defs) for p, words in found if words.api)

    def method_may_forward(self, project: Project, modules: Sequence[tuple[Path, frozenset[str]]], name: str) -> bool:
        return any(name in defs and self.may_forward_function(project, p, 0, name) for p, defs in modules)

    def reach(
        self,
        project: Project,
        path: Path,
        names: Optional[frozenset[str]] = None,
        imports: Optional[tuple[TextImport, ...]] = None,
    ) -> Reach:
        """The modules whose functions the module may call by what its text imports, with the names it takes
        from each: `from .a import f` takes f from a.py (or a/f.py, a module), `from . import a` takes module
        a, `import a.b` takes any name of a and a.b. With `names`, only the imports that bind one of them; with
        `imports`, only those."""
        found: dict[Path, Optional[frozenset[str]]] = {}

        def add(module: Optional[Path], taken: Optional[frozenset[str]]) -> None:
            if module is not None and module.is_file():
                before = found.get(module, frozenset())
                found[module] = None if before is None or taken is None else before | taken

        for imported in self.words(path).imports if imports is None else imports:
            if names is not None and not imported.star and not names & set(imported.bound):
                continue
            level, parts = imported.level, imported.parts
            if not imported.names and not imported.star:  # `import a.b`: a, a.b
                for i in range(1, len(parts) + 1):
                    add(project.locate(path, level, parts[:i]), None)
                continue
            base = project.locate(path, level, parts)
            if imported.star:
                add(base, None)
            for name, bound in zip(imported.names, imported.bound):
                if names is None or bound in names:
                    module = project.locate(path, level, (*parts, name))
                    add(module or base, None if module else frozenset({name}))
        return tuple(found.items())

    def direct_imports(self, project: Project, path: Path) -> tuple[Path, ...]:
        """The project module files the module's own text may import."""
        key = (path, self.digest(path) or b"")
        if key not in self._reads.direct_imports:
            self._reads.direct_imports[key] = tuple(dict.fromkeys(_located(project, path, self.words(path).imports)))
        return self._reads.direct_imports[key]

    def summary(self, project: Project, path: Path, hops: int) -> Optional[ModuleSummary]:
        """Forwarders only of a module that may have them (`may_forward`); constants and attributes of any."""
        digest = self.digest(path) if hops >= 0 else None
        key = (path, digest or b"", hops)
        if digest is not None and key not in self._reads.summaries:
            tree = self.tree(path)
            self._reads.summaries[key] = self._summarise(project, path, tree, hops) if tree is not None else None
        return self._reads.summaries.get(key)

    def digest(self, path: Path) -> Optional[bytes]:
        """The hash of a module file's bytes, read again when its size or modification time changed (looked at
        once per checked file; once per run without `recheck`); None for a folder (a namespace package) or a
        file that cannot be read."""
        known = self._reads.digests.get(path)
        if known is not None and (known[0] == self._epoch or not self.recheck):
            return known[3]
        try:
            stat = path.stat()
            if known is None or known[1:3] != (stat.st_mtime_ns, stat.st_size):
                digest = hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
                known = (self._epoch, stat.st_mtime_ns, stat.st_size, digest)
        except OSError:
            self._reads.digests.pop(path, None)
            return None
        self._reads.digests[path] = known = (self._epoch, *known[1:])
        return known[3]

    def new_epoch(self, project: Project) -> None:
        """A file of `project` is about to be checked: files may have changed since the last (`--fix` writes
        them). What was read of projects other than the last KEPT_PROJECTS is dropped, so that memory does not
        grow with the number of projects a run checks (files come project by project: a folder's files are
        checked in order)."""
        self._epoch += 1
        if project.root != self.root:
            self._kept[self.root] = self._reads
            self._kept.move_to_end(self.root)
            self._reads = self._kept.pop(project.root) if project.root in self._kept else _Reads()
            self.root = project.root
            while len(self._kept) >= KEPT_PROJECTS:
                self._kept.popitem(last=False)

    def tree(self, path: Path) -> Optional[ast.Module]:
        """The module's `ast`, parsed again for its table and each depth it is read at: keeping trees costs more
        than parsing them again (the cycle collector walks every node of each tree kept, again and again)."""
        try:
            return read_source(path.read_bytes(), str(path)).tree
        except (OSError, SourceError):
            return None

    def _summarise(self, project: Project, path: Path, tree: ast.Module, hops: int) -> ModuleSummary:
        facts = collect(tree)
        facts.project = ModuleView(self, project, path, facts, hops - 1) if hops > 0 else None
        shown = project.shown(path)
        defined = members(facts)
        try:
            found = forwarders(facts) if self.may_forward(project, path, hops) else []
            own = tuple(replace(f, modules=(shown, *f.modules)) for f in found if (f.owner, f.name) in defined)
            values = {**constants(facts, shown), **class_constants(facts, shown)}
            return ModuleSummary(values, attributes(facts, shown), own)
        finally:
            facts.release()


def with_inits_imports(index: ProjectIndex, project: Project, paths: Sequence[Path]) -> tuple[Path, ...]:
    """`paths`, and what the text of the `__init__.py` files among them may import."""
    inits = [index.direct_imports(project, p) for p in paths if p.name == INIT]
    return tuple(dict.fromkeys([*paths, *(q for found in inits for q in found)]))


def _located(project: Project, importer: Path, imports: tuple[TextImport, ...]) -> list[Path]:
    """The module files that text imports may name: `from a import b` names `a` and `a/b.py`, `import a.b`
    names `a` and `a/b`."""
    found: list[Path] = []
    for level, parts, names, _, _ in imports:
        tried = [parts[:i] for i in range(0 if level else 1, len(parts) + 1)]
        tried += [(*parts, name) for name in names]
        found += [p for p in (project.locate(importer, level, t) for t in tried) if p is not None and p.is_file()]
    return found


def _table(project: Project, path: Path, facts: ModuleFacts) -> ModuleTable:
    places = (_walk(project, path, source, ()) for source in _sources(facts))
    imports = tuple(dict.fromkeys(p[0] for p in places if p is not None))
    return ModuleTable(members(facts), reexports(facts), imports)


def _walk(
    project: Project, importer: Path, source: ImportSource, attrs: tuple[str, ...]
) -> Optional[tuple[Path, tuple[str, ...]]]:
    """The deepest module an import and the attributes read after it name, and the attributes left:
    `from a import b` names `a/b.py` when it exists, else `b` of `a`."""
    level, module, name = source
    parts = module.split(".") if module else []
    found = project.locate(importer, level, parts)
    if found is None:
        return None
    rest = [*([name] if name else []), *attrs]
    while rest:
        deeper = project.locate(importer, level, [*parts, rest[0]])
        if deeper is None:
            break
        parts.append(rest.pop(0))
        found = deeper
    return found, tuple(rest)


def _sources(facts: ModuleFacts) -> list[ImportSource]:
    return [source for sources in facts.import_sources.values() for source in sources]


class FileLookup:
    """The engine's door to the project of one checked file (engine.ProjectLookup): the project is looked for
    only when the file is checked (most files of a folder are not: engine.may_have_findings)."""

    def __init__(self, index: ProjectIndex, path: str) -> None:
        self.index, self.path = index, path

    def view(self, facts: ModuleFacts) -> ModuleView:
        project = find_project(self.path)
        self.index.new_epoch(project)
        return ModuleView(self.index, project, Path(self.path).resolve(), facts, MAX_HOPS - 1, checked=True)


class ModuleView:
    """What one module's imports name in the project (forwarding.ProjectView), read `hops` deep. It lives for
    one analysis of one module, and remembers what it found."""

    def __init__(
        self, index: ProjectIndex, project: Project, path: Path, facts: ModuleFacts, hops: int, checked: bool = False
    ) -> None:
        self.index, self.project, self.path, self.facts, self.hops = index, project, path, facts, hops
        self.checked = checked
        self._imported: Optional[list[Path]] = None
        self._methods: dict[str, tuple[Forwarder, ...]] = {}
        self._places: dict[tuple[tuple[str, ...], bool], Optional[tuple[Path, str, int]]] = {}
        self._words: dict[Path, Words] = {}
        self._method_modules: Optional[MethodModules] = None
        self._forwarding_methods: dict[str, bool] = {}
        self._strings: Optional[frozenset[str]] = None

    def value(self, path: tuple[str, ...]) -> Optional[ImportedValue]:
        found = self._member(path, function=False)
        return found[0].constants.get(found[1]) if found is not None else None

    def may_hold_string(self, name: str) -> bool:
        if self._strings is None:
            self._strings = frozenset().union(*(self.index.assignments(p).strings for p in self.imported()))
        return name in self._strings

    def attribute(self, name: str) -> Optional[ImportedValue]:
        if not self.may_hold_string(name):
            return None
        paths = [p for p in self.imported() if name in self.index.assignments(p).sets]
        summaries = [s for s in (self.index.summary(self.project, p, 0) for p in paths) if s is not None]
        values = [s.attributes[name] for s in summaries if name in s.attributes]
        known = [v for v in values if v is not None]
        if not values or len(known) != len(values) or len({v.value for v in known}) != 1:
            return None
        if len(known) > 1:
            return ImportedValue(known[0].value, f"the value of .{name} in {len(known)} modules it imports")
        return known[0]

    def functions(self, path: tuple[str, ...]) -> tuple[Forwarder, ...]:
        found = self._member(path, function=True)
        return found[0].functions(found[1]) if found is not None else ()

    def methods(self, name: str) -> tuple[Forwarder, ...]:
        if name not in self._methods:
            self._methods[name] = self._find_methods(name)
        return self._methods[name]

    def _find_methods(self, name: str) -> tuple[Forwarder, ...]:
        if not self.may_forward_method(name):
            return ()  # no module that defines it can forward (`ProjectIndex.summary`)
        paths = [p for p in self.imported() if name in self.words(p).defs]
        groups: dict[tuple[str, Optional[str]], set[Forwarder]] = {}
        for path in paths:
            if not self.index.may_forward_function(self.project, path, 0, name):
                continue  # no forwarder, and a method is not followed into further modules: not parsed for it
            summary = self.index.summary(self.project, path, 0)
            for f in summary.forwarders if summary is not None else ():
                if f.method and f.name == name:
                    groups.setdefault((f.modules[0], f.owner), set()).add(f)
        if not groups:
            return ()
        tables = [(p, self.index.table(self.project, p)) for p in paths]
        defined = {(self.project.shown(p), m[0]) for p, t in tables if t for m in t.members if m[1] == name and m[0]}
        if set(groups) != defined:
            return ()  # some class defines the name without forwarding it: the receiver may be of that class
        shapes = {frozenset((f.position, f.param) for f in group) for group in groups.values()}
        if len(shapes) != 1:
            return ()
        return tuple(sorted(groups[min(groups)], key=lambda f: (f.param, f.api.name)))

    def imported(self) -> list[Path]:
        """The project module files this module imports, and those that the `__init__.py` of a package it
        imports from imports (each once)."""
        if self._imported is None:
            direct = self._direct()
            found = dict.fromkeys(direct)
            for path in direct:
                table = self.index.table(self.project, path) if path.name == INIT else None
                found.update(dict.fromkeys(table.imports if table is not None else ()))
            self._imported = [p for p in found if p.is_file()]
        return self._imported

    def _direct(self) -> list[Path]:
        places = (_walk(self.project, self.path, source, ()) for source in _sources(self.facts))
        return [p[0] for p in places if p is not None]

    def words(self, path: Path) -> Words:
        if path not in self._words:
            self._words[path] = self.index.words(path)
        return self._words[path]

    def may_forward(self, path: tuple[str, ...]) -> bool:
        return self._place(path, function=True) is not None

    def may_forward_method(self, name: str) -> bool:
        """A method is read one module deep (`_find_methods`): only a module that names the API may forward.
        Asked of the texts first (what `imported` finds, and more), so that no `__init__.py` is parsed for it."""
        if self._method_modules is None:
            self._method_modules = self.index.method_modules(self.project, self._direct())
        if name.startswith("__"):
            return False
        if name not in self._forwarding_methods:
            may = self.index.method_may_forward(self.project, self._method_modules, name)
            self._forwarding_methods[name] = may
        return self._forwarding_methods[name]

    def _member(self, path: tuple[str, ...], function: bool) -> Optional[tuple[ModuleSummary, str]]:
        """The summary of the module that defines what `path` names, and its name there."""
        place = self._place(path, function)
        if place is None:
            return None
        summary = self.index.summary(self.project, place[0], place[2])
        return (summary, place[1]) if summary is not None else None

    def _place(self, path: tuple[str, ...], function: bool) -> Optional[tuple[Path, str, int]]:
        """The module that may define what `path` names (a function, else a constant or a class attribute),
        its name there and the depth left to read it: only a module whose text may define that name, through
        the `__init__.py` of packages that pass it on. Nothing is summarised yet."""
        key = (path, function)
        if key not in self._places:
            self._places[key] = self._find_place(path, function)
        return self._places[key]

    def _find_place(self, path: tuple[str, ...], function: bool) -> Optional[tuple[Path, str, int]]:
        sources = self.facts.import_sources.get(path[0], []) if path else []
        if len(sources) != 1:
            return None
        importer, source, attrs, hops = self.path, sources[0], path[1:], self.hops
        while hops >= 0:
            found = _walk(self.project, importer, source, attrs)
            if found is None or not 1 <= len(found[1]) <= 2:
                return None  # a module, or deeper than `Class.attr`
            module, rest = found
            if module.name == INIT:
                table = self.index.table(self.project, module)
                if table is not None and rest[0] in table.reexports:  # passed on
                    importer, source, attrs, hops = module, table.reexports[rest[0]], rest[1:], hops - 1
                    continue
            words = self.words(module)
            if function and not (
                rest[0] in words.defs and self.index.may_forward_function(self.project, module, hops, rest[0])
            ):
                return None  # no such function, or one that cannot forward (`ProjectIndex.summary`)
            assigned = self.index.assignments(module) if not function else NO_ASSIGNMENTS
            if not function and rest[-1] not in (assigned.top if len(rest) == 1 else assigned.sets):
                return None
            return module, ".".join(rest), hops
        return None
