"""Key tests that look for an adapter name as a substring of a parameter key (PFT205).

PEFT puts the adapter name into a key as one whole component (`q_proj.lora_A.<name>.weight`,
`q_proj.ia3_l.<name>`), so `adapter_name in k` also holds for the keys of every adapter whose name contains
it, and of modules whose path does (`"ad" in "base_model.model.head.weight"`). A test counts when the keys are
a model's parameter keys: the walked dict is a model's state_dict()/named_parameters() or one filtered from it,
or the same condition tests the key for a PEFT marker (`"lora_" in k and adapter_name in k`, as in the old
`get_peft_model_state_dict` that projects copied) while building a dict or walking (key, value) pairs: a list
of key names (the `unexpected_keys` a loader warns about) selects no tensor.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import Iterator, Optional

from ..module_facts import ModuleFacts, Scope
from ..walk import walk
from .filtered import if_statements
from .key_tests import ConditionReader, KeyTestKind, int_value, is_key
from .markers import adapter_like
from .values import MODEL_KINDS, Iteration, Kind, Value, Via, walking_values
from .view import state_dicts

_PARAMETER_KINDS = MODEL_KINDS | {Kind.MANUAL, Kind.GRAD}
_PEFT_FORMAT = frozenset({Kind.PEFT_STATE, Kind.ADAPTER_FILE})
_RELATIONS = {(False, False): "contain", (True, False): "start with", (False, True): "end with"}


@dataclass(frozen=True)
class NameTest:
    """`adapter_name in k` (or `k.find(adapter_name) != -1`): the name is not delimited by dots on some side."""

    node: ast.expr  # the test
    adapter: str  # the adapter-name expression, as source
    key: str  # the key expression, as source
    relation: str  # which other names it matches: those that "contain", "start with" or "end with" it
    holds_if_found: bool  # the test is true when the needle is in the key (`in`, `find(...) != -1`)
    bare: bool  # the needle is the adapter name alone (`adapter_name`, `f"{adapter_name}"`)
    via: Optional[Via] = None  # the keys are known to be a model's only through other modules (project pass)


def substring_name_tests(facts: ModuleFacts) -> list[NameTest]:
    return facts.derived(_build)


def _build(facts: ModuleFacts) -> list[NameTest]:
    candidates = []
    for conditions, target, iterable, scope, names_only in _walks(facts):
        named = [c for c in conditions if any(isinstance(n, ast.expr) and adapter_like(n) for n in walk(c))]
        if named:
            candidates.append((named, target, iterable, scope, names_only))
    if not candidates:
        return []  # no condition names an adapter: the state-dict phases are not built
    values = state_dicts(facts).values
    reader = ConditionReader(facts, values)
    found: dict[int, NameTest] = {}
    for conditions, target, iterable, scope, names_only in candidates:
        iteration = values.iteration(target, iterable, scope)
        if iteration is None and facts.across is not None:  # a parameter: what callers in other modules pass
            iteration = walking_values(facts).iteration(target, iterable, scope)
        known = iteration is not None and iteration.walked.kind in _PARAMETER_KINDS
        if iteration is not None and iteration.walked.kind in _PEFT_FORMAT:
            continue  # PEFT's checkpoint format has no adapter name in its keys
        iteration = iteration or _syntactic(target, iterable)
        if iteration is None or (iteration.key is None and iteration.pair is None):
            continue
        for condition in conditions:
            tests = reader.tests(condition, iteration, scope)
            marked = any(
                t.kind is KeyTestKind.NEEDLE and t.needle is not None and t.needle.marker and not t.needle.adapter
                for t in tests
            )
            if not (known or (marked and not (names_only and iteration.value is None and iteration.pair is None))):
                continue  # a list of key names (`unexpected_keys` for a warning) selects no tensor
            for test in tests:
                if test.kind is KeyTestKind.NEEDLE and test.needle is not None and test.needle.adapter:
                    name_test = _substring_test(facts, test.node, iteration, scope)
                    if name_test is not None:
                        via = iteration.walked.via if known and not marked else None
                        found.setdefault(id(test.node), replace(name_test, via=via))
    return sorted(found.values(), key=lambda t: (t.node.lineno, t.node.col_offset))


def _walks(facts: ModuleFacts) -> Iterator[tuple[list[ast.expr], ast.expr, ast.expr, Scope, bool]]:
    """(conditions, target, iterable, scope, names only) of every comprehension generator and `for` loop with
    conditions; `names only`: a list, set or generator comprehension, which keeps what it walks (key names,
    unless it walks pairs)."""
    for comp, scope in facts.comprehensions:
        for generator in getattr(comp, "generators", []):
            if generator.ifs:
                yield generator.ifs, generator.target, generator.iter, scope, not isinstance(comp, ast.DictComp)
    for loop, scope in facts.loops:
        conditions = [s.test for s in if_statements(loop.body)]
        if conditions:
            yield conditions, loop.target, loop.iter, scope, False


def _syntactic(target: ast.expr, iterable: ast.expr) -> Optional[Iteration]:
    """The key variable of a walk over a dict nothing more is known of: `for k in d`, `for k, v in d.items()`."""
    unknown = Value(Kind.MANUAL)  # a placeholder: only the variables are read
    items = (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Attribute)
        and iterable.func.attr == "items"
        and not iterable.args
    )
    if items and isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[0], ast.Name):
        value = target.elts[1]
        return Iteration(unknown, key=target.elts[0].id, value=value.id if isinstance(value, ast.Name) else None)
    if not items and isinstance(target, ast.Name):
        return Iteration(unknown, key=target.id)
    return None


def _substring_test(facts: ModuleFacts, node: ast.expr, it: Iteration, scope: Scope) -> Optional[NameTest]:
    """`node` as a substring test of the key for an adapter name not delimited by dots on both sides."""
    if not isinstance(node, ast.Compare) or len(node.ops) != 1:
        return None
    left, op, right = node.left, node.ops[0], node.comparators[0]
    if isinstance(op, (ast.In, ast.NotIn)) and is_key(right, it):
        needle, key, holds = left, right, isinstance(op, ast.In)
    elif (
        isinstance(left, ast.Call)
        and isinstance(left.func, ast.Attribute)
        and left.func.attr in ("find", "rfind")
        and is_key(left.func.value, it)
        and len(left.args) == 1
    ):
        needle, key = left.args[0], left.func.value
        bound = int_value(right)
        if (isinstance(op, (ast.NotEq, ast.Gt)) and bound == -1) or (isinstance(op, ast.GtE) and bound == 0):
            holds = True
        elif (isinstance(op, ast.Eq) and bound == -1) or (isinstance(op, ast.Lt) and bound == 0):
            holds = False
        else:
            return None
    else:
        return None
    sides = _delimited(facts, needle, scope)
    if sides is None:
        return None
    left_dot, right_dot, adapter, bare = sides
    if left_dot and right_dot:
        return None
    return NameTest(node, ast.unparse(adapter), ast.unparse(key), _RELATIONS[(left_dot, right_dot)], holds, bare)


def _delimited(facts: ModuleFacts, needle: ast.expr, scope: Scope) -> Optional[tuple[bool, bool, ast.expr, bool]]:
    """(a dot before the name, a dot after it, the name's expression, the needle is the name alone), when the
    text next to the name is statically known; None when it is not, or when the needle holds no adapter name."""
    if adapter_like(needle):
        return False, False, needle, True
    parts: list[ast.expr]
    if isinstance(needle, ast.JoinedStr):
        if any(isinstance(p, ast.FormattedValue) and (p.conversion != -1 or p.format_spec) for p in needle.values):
            return None
        parts = [p.value if isinstance(p, ast.FormattedValue) else p for p in needle.values]
    elif isinstance(needle, ast.BinOp) and isinstance(needle.op, ast.Add):
        parts = _added(needle)
    else:
        return None
    names = [i for i, part in enumerate(parts) if adapter_like(part)]
    if len(names) != 1:
        return None
    index = names[0]
    before = _text(facts, parts[:index], scope)
    after = _text(facts, parts[index + 1:], scope)
    if before is None or after is None:
        return None
    return before.endswith("."), after.startswith("."), parts[index], not before and not after


def _added(expr: ast.expr) -> list[ast.expr]:
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _added(expr.left) + _added(expr.right)
    return [expr]


def _text(facts: ModuleFacts, parts: list[ast.expr], scope: Scope) -> Optional[str]:
    text = []
    for part in parts:
        resolved = facts.resolve(part, scope)
        if resolved is None:
            return None
        text.append(resolved.value)
    return "".join(text)
