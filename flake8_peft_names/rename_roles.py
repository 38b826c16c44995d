"""Every use of an adapter name's value in a module, and whether each is an adapter-name role.

A rename is safe only when the value does nothing else: every string literal equal to it, and every
variable, attribute or option that holds it, must be read only where peft, transformers or diffusers take
an adapter name (an API argument, a key of `peft_config` or of a layer's per-adapter dict such as `lora_A`,
a comparison with `active_adapter(s)`, a list handed to `set_adapters`). Then all those literals are
renamed together. One use in another role (it selects a method, builds a path, is compared with something
else, goes to another function) blocks the rename, and the fix says which use, on which line, and why.
"""
from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass
from typing import Iterator, Optional, Union

from .adapter_sites import adapter_name_uses
from .module_facts import ENV_FALLBACKS, TYPER_DEFAULTS, UNKNOWN, ModuleFacts, Resolved, called_name
from .peft_facts import METHODS
from .statements import blocks
from .walk import CHILD_FIELDS, child_fields

# Attributes keyed by adapter name: the model's configs and each PEFT layer's per-adapter dicts.
ADAPTER_KEYED = frozenset({"peft_config", "scaling", "r", "lora_alpha", "modules_to_save", "use_dora"})
ACTIVE = frozenset({"active_adapter", "active_adapters", "peft_config"})
PREFIXES = tuple(sorted({m.prefix for m in METHODS if m.prefix}))
PRINTING = frozenset({"print", "debug", "info", "warning", "warn", "error", "exception", "log"})
Site = tuple[int, int, int, int]  # line, col, end_line, end_col of a literal (as `ast` gives them)


@dataclass(frozen=True)
class Use:
    node: ast.AST
    role: str  # what the value does here, for messages: "adapter name of set_adapter()"
    allowed: bool

    @property
    def line(self) -> int:
        return getattr(self.node, "lineno", 0)


@dataclass(frozen=True)
class RenameScope:
    """What renaming `old` touches: the literals to rewrite, and the first use that forbids it."""

    old: str
    literals: tuple[ast.Constant, ...]
    blocker: Optional[Use]

    @property
    def sites(self) -> tuple[Site, ...]:
        return tuple((c.lineno, c.col_offset, c.end_lineno or c.lineno, c.end_col_offset or 0) for c in self.literals)

    @property
    def lines(self) -> list[int]:
        return sorted({c.lineno for c in self.literals})

    def places(self) -> str:
        """`5 places: lines 3, 9, 14, 20, 22`"""
        count = len(self.literals)
        lines = ", ".join(map(str, self.lines))
        return f"{count} place{'s' if count != 1 else ''}: line{'s' if len(self.lines) != 1 else ''} {lines}"

    def reason(self) -> str:
        assert self.blocker is not None
        return f"{self.old!r} on line {self.blocker.line} {self.blocker.role}, not only an adapter name"


class _Index:
    """Where the module's values are read, and the parents of nodes, each worked out when first asked for: the
    reads by name from those of the one pass (module_scan), a node's parent from the innermost statement that
    holds it (its own expressions, not its nested blocks), else, for a position no statement's span holds
    (parts of an f-string, on some Pythons), from a walk of the whole module."""

    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._top = facts.tree.body
        self._starts = [_start(s) for s in self._top]
        self._by_statement: dict[int, dict[int, ast.AST]] = {}  # id(statement) -> parents in its own expressions
        self._everywhere: Optional[dict[int, ast.AST]] = None
        self._reads: Optional[dict[tuple[bool, str], list[ast.AST]]] = None  # (an attribute?, name) -> reads

    def parent(self, node: ast.AST) -> Optional[ast.AST]:
        statement = self._innermost(node)
        if statement is not None:
            parents = self._by_statement.get(id(statement))
            if parents is None:
                parents = self._by_statement[id(statement)] = _parents_in(statement, own=True)
            if id(node) in parents:
                return parents[id(node)]
        if self._everywhere is None:
            self._everywhere = _parents_in(self._facts.tree, own=False)
        return self._everywhere.get(id(node))

    def reads(self, name: str, attribute: bool) -> list[ast.AST]:
        """The reads of a variable (or of an attribute) so named, in the one pass's order."""
        if self._reads is None:
            self._reads = {}
            for node, _ in self._facts.loads:
                key = (True, node.attr) if isinstance(node, ast.Attribute) else (False, node.id)
                self._reads.setdefault(key, []).append(node)
        return self._reads.get((attribute, name), [])

    def _innermost(self, node: ast.AST) -> Optional[ast.stmt]:
        where = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        at = bisect.bisect_right(self._starts, where) - 1
        if at < 0 or where > _end(self._top[at]):
            return None
        statement = self._top[at]
        while True:
            inner = next((s for block in blocks(statement) for s in block if _start(s) <= where <= _end(s)), None)
            if inner is None:
                return statement
            statement = inner


def _start(statement: ast.stmt) -> tuple[int, int]:
    decorators = getattr(statement, "decorator_list", ())
    return min([(statement.lineno, statement.col_offset), *((d.lineno, d.col_offset) for d in decorators)])


def _end(statement: ast.stmt) -> tuple[int, int]:
    return (statement.end_lineno or statement.lineno, statement.end_col_offset or 0)


def _parents_in(root: ast.AST, own: bool) -> dict[int, ast.AST]:
    """id(node) -> its parent, for every node under `root`; `own`: not into nested blocks of statements."""
    parents: dict[int, ast.AST] = {}
    stack, node_type, fields_of = [root], ast.AST, CHILD_FIELDS
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        kind = type(node)
        fields = fields_of.get(kind)
        if fields is None:
            fields = child_fields(kind)
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                if own and value and isinstance(value[0], ast.stmt):
                    continue
                for item in value:
                    if isinstance(item, node_type):
                        parents[id(item)] = node
                        push(item)
            elif isinstance(value, node_type):
                parents[id(value)] = node
                push(value)
    return parents


def rename_scope(facts: ModuleFacts, old: str) -> RenameScope:
    """Every use of the value `old` in the module (memoised on `facts`)."""
    return facts.derived(_rename_scope, old)


def _rename_scope(facts: ModuleFacts, old: str) -> RenameScope:
    index = facts.derived(_Index)
    adapter_nodes = {id(u.node): u.api.name for u in adapter_name_uses(facts) if not u.implicit}
    pending: list[ast.AST] = [c for c in facts.strings if c.value == old]
    loads = facts.derived(_load_values, old)
    pending += [node for node, _ in loads]
    seen: set[int] = set()
    literals: list[ast.Constant] = []
    uses: list[Use] = []
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        role = _role(node, index, adapter_nodes)
        if role is None:
            continue
        if isinstance(role, Use):
            uses.append(role)
        else:  # a definition: the value lives on in a variable, attribute or option, read where it is read
            pending.extend(_reads(role, index))
        if isinstance(node, ast.Constant) and (not isinstance(role, Use) or role.allowed):
            literals.append(node)
    # a constant of another module: renaming the literals here would leave it behind
    uses += [Use(node, "comes from another module of the project", False) for node, r in loads if r.imported]
    blockers = sorted((u for u in uses if not u.allowed), key=lambda u: (u.line, getattr(u.node, "col_offset", 0)))
    ordered = tuple(sorted(literals, key=lambda c: (c.lineno, c.col_offset)))
    return RenameScope(old, ordered, blockers[0] if blockers else None)


def _load_values(facts: ModuleFacts, old: str) -> list[tuple[ast.expr, Resolved]]:
    """Each variable or attribute read whose string value is statically `old`. Without the project's other
    modules, only the reads of names that may hold `old` (`_holders`) are resolved: the others cannot be."""
    holders = _holders(facts, old) if facts.project is None else None
    found: list[tuple[ast.expr, Resolved]] = []
    if holders is not None and not holders:
        return found  # most renames: the value is written only as literals
    for node, scope in facts.loads:
        if holders is not None and (node.id if isinstance(node, ast.Name) else node.attr) not in holders:
            continue
        resolved = facts.resolve(node, scope)
        if resolved is not None and resolved.value == old:
            found.append((node, resolved))
    return found


def _holders(facts: ModuleFacts, old: str) -> set[str]:
    """The names and attribute names whose reads `resolve` may find to be `old`, in a module resolved on its
    own: those with a binding (an assignment, a parameter default, an attribute set, an option) whose value
    may resolve to `old`. A superset: a value built from parts (an f-string, `+`, an environment fallback)
    counts for any string."""
    sources = facts.derived(_sources)
    holders = {name for name, (strings, _, built) in sources.items() if built or old in strings}
    changed = True
    while changed:  # a name bound to a holder's value holds it too
        changed = False
        for name, (_, names, _) in sources.items():
            if name not in holders and not names.isdisjoint(holders):
                holders.add(name)
                changed = True
    return holders


# What the values bound to one name may resolve from: string literals, other names (or attribute names),
# and whether one is built from parts (then it may be any string).
_Sources = tuple[set[str], set[str], bool]


def _sources(facts: ModuleFacts) -> dict[str, _Sources]:
    """Name or attribute name -> what the values the module binds to it may resolve from (mirrors
    ModuleFacts._resolve): its bindings in any scope, its parameter defaults and command-line options, and
    the attributes of that name set on `self` or on an object of unknown class."""
    values: dict[str, list[ast.expr]] = {}
    for name, pairs in facts.loose_attrs.items():
        values.setdefault(name, []).extend(value for value, _ in pairs)
    for scope in (facts.module_scope, *facts.scope_of.values()):
        for name, bound in scope.bindings.items():
            values.setdefault(name, []).extend(bound)
        for name, default in scope.params.items():
            if default is not None:
                values.setdefault(name, []).append(default)
    for attrs in facts.instance_attrs.values():
        for name, bound in attrs.items():
            values.setdefault(name, []).extend(bound)
    found: dict[str, _Sources] = {}
    for name, exprs in values.items():
        strings, names, built = set(), set(), False
        for value in exprs:
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and value is not UNKNOWN:
                strings.add(value.value)
            elif isinstance(value, (ast.Name, ast.Attribute)):
                names.add(value.id if isinstance(value, ast.Name) else value.attr)
            elif isinstance(value, ast.Call):
                built |= (facts.origin(value.func) or "") in ENV_FALLBACKS + TYPER_DEFAULTS
            else:
                built |= isinstance(value, ast.JoinedStr) or (
                    isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add)
                )
        found[name] = (strings, names, built)
    return found


@dataclass(frozen=True)
class _Defines:
    """The value is stored here: read back by these names and attribute names."""

    names: tuple[str, ...] = ()
    attrs: tuple[str, ...] = ()


def _reads(defined: _Defines, index: _Index) -> Iterator[ast.AST]:
    for name in defined.names:
        yield from index.reads(name, attribute=False)
    for attr in defined.attrs:
        yield from index.reads(attr, attribute=True)


def _role(node: ast.AST, index: _Index, adapter_nodes: dict[int, str]) -> Union[Use, _Defines, None]:
    """What the value does at `node`: a use (allowed or not), a definition, or nothing (a docstring)."""
    if id(node) in adapter_nodes:
        return Use(node, f"is the adapter name of {adapter_nodes[id(node)]}()", True)
    parent = index.parent(node)
    while isinstance(parent, (ast.List, ast.Tuple, ast.Set, ast.Starred)):
        node, parent = parent, index.parent(parent)
        if id(node) in adapter_nodes:
            return Use(node, f"is in the adapter names of {adapter_nodes[id(node)]}()", True)
    if isinstance(parent, ast.Expr):
        return None  # a docstring or a bare string statement
    if isinstance(parent, ast.Subscript) and parent.slice is node:
        base = parent.value
        if isinstance(base, ast.Attribute) and (base.attr in ADAPTER_KEYED or base.attr.startswith(PREFIXES)):
            return Use(node, f"is a key of .{base.attr}", True)
        return Use(node, f"is a key of {_short(base)}", False)
    if isinstance(parent, ast.Compare):
        others = [o for o in (parent.left, *parent.comparators) if o is not node]
        if others and all(_active(o) for o in others):
            return Use(node, f"is compared with {_short(others[0])}", True)
        shown = next((o for o in others if not _active(o)), parent)
        return Use(node, f"is compared with {_short(shown)}", False)
    if isinstance(parent, ast.keyword):
        call = index.parent(parent)
        if isinstance(call, ast.Call):
            return _argument(node, call, parent.arg, index)
    if isinstance(parent, ast.Call) and node is not parent.func:
        return _argument(node, parent, None, index)
    if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is node:
        targets: list[ast.expr] = list(parent.targets) if isinstance(parent, ast.Assign) else [parent.target]
        return _defined_by(node, targets)
    if isinstance(parent, ast.arguments):
        return _parameter(node, parent)
    if isinstance(parent, (ast.FormattedValue, ast.JoinedStr)):
        return Use(node, "is formatted into a string", False)
    if isinstance(parent, ast.BinOp):
        what = "builds a path" if isinstance(parent.op, ast.Div) else "builds another value"
        return Use(node, f"{what} ({_short(parent)})", False)
    if isinstance(parent, ast.Return):
        return Use(node, "is returned from a function", False)
    if isinstance(parent, ast.Dict):
        return Use(node, "is in a dict", False)
    return Use(node, f"is used in {_short(parent) if isinstance(parent, ast.expr) else 'a statement'}", False)


def _argument(node: ast.AST, call: ast.Call, keyword: Optional[str], index: _Index) -> Union[Use, _Defines]:
    name = called_name(call.func) or _short(call.func)
    if keyword == "default" and name == "add_argument":
        help_text = next((k.value for k in call.keywords if k.arg == "help"), None)
        if isinstance(help_text, ast.Constant) and isinstance(node, ast.Constant) and (
            "%(default)" in str(help_text.value) or str(node.value) in str(help_text.value)
        ):
            return Use(node, "is a command-line flag's documented default", False)
        return _Defines(attrs=tuple(_dests(call)))
    if keyword == "default" and name == "field":
        holder = index.parent(call)
        if isinstance(holder, ast.AnnAssign) and isinstance(holder.target, ast.Name):
            return _Defines(names=(holder.target.id,), attrs=(holder.target.id,))
    if name in PRINTING:
        return Use(node, f"is printed by {name}()", True)
    if name == "join" or name in ("Path", "PurePath"):
        return Use(node, f"builds a path ({name}())", False)
    return Use(node, f"is passed to {name}()", False)


def _dests(call: ast.Call) -> Iterator[str]:
    for keyword in call.keywords:
        if keyword.arg == "dest" and isinstance(keyword.value, ast.Constant):
            yield str(keyword.value.value)
    for arg in call.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            yield arg.value.lstrip("-").replace("-", "_")


def _defined_by(node: ast.AST, targets: list[ast.expr]) -> Union[Use, _Defines]:
    names = tuple(t.id for t in targets if isinstance(t, ast.Name))
    attrs = tuple(t.attr for t in targets if isinstance(t, ast.Attribute))
    if len(names) + len(attrs) != len(targets):
        return Use(node, "is stored in a container", False)
    return _Defines(names=names, attrs=attrs + names)  # a class-level constant is read as an attribute too


def _parameter(node: ast.AST, arguments: ast.arguments) -> _Defines:
    positional = [*arguments.posonlyargs, *arguments.args]
    pairs = list(zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults))
    pairs += [(a, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None]
    return _Defines(names=tuple(a.arg for a, d in pairs if d is node))


def _active(expr: ast.expr) -> bool:
    """`model.active_adapter`, `model.active_adapters[0]`, `model.active_adapter()`, `model.peft_config`,
    `layer.lora_A` (`name in layer.lora_A`)."""
    while isinstance(expr, (ast.Subscript, ast.Call)):
        expr = expr.value if isinstance(expr, ast.Subscript) else expr.func
    return isinstance(expr, ast.Attribute) and (
        expr.attr in ACTIVE or expr.attr in ADAPTER_KEYED or expr.attr.startswith(PREFIXES)
    )


def _short(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."
