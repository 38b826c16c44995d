"""Key tests: what a filter condition tests about each entry it walks (a key marker, or requires_grad)."""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass, replace
from typing import Optional

from ..module_facts import ModuleFacts, Scope, called_name
from ..walk import walk
from .markers import Needle, needle_of
from .values import Iteration, Kind, RawValues

_REGEX_CALLS = ("re.search", "re.match", "re.fullmatch", "regex.search", "regex.match", "regex.fullmatch")


class KeyTestKind(enum.Enum):
    NEEDLE = "a key marker or adapter name"
    GRAD = "requires_grad"


@dataclass(frozen=True)
class KeyTest:
    """One key or parameter test inside a filter; `positive` when passing it keeps the entry."""

    kind: KeyTestKind
    positive: bool
    node: ast.expr
    needle: Optional[Needle] = None


class ConditionReader:
    """Reads filter conditions. `values` classifies what a name set is built from (`n in trainable_names`):
    the phase-1 classifier while the filtered collections are built, the final one afterwards."""

    def __init__(self, facts: ModuleFacts, values: RawValues) -> None:
        self.facts = facts
        self.values = values

    def tests(self, condition: ast.expr, iteration: Iteration, scope: Scope, negated: bool = False) -> list[KeyTest]:
        """The key and requires_grad tests in a filter condition, with their polarity."""
        if isinstance(condition, ast.BoolOp):
            return [t for value in condition.values for t in self.tests(value, iteration, scope, negated)]
        if isinstance(condition, ast.UnaryOp) and isinstance(condition.op, ast.Not):
            return self.tests(condition.operand, iteration, scope, not negated)
        found = self.test(condition, iteration, scope)
        if found is None:
            return []
        return [replace(found, positive=found.positive != negated)]

    def test(self, node: ast.expr, it: Iteration, scope: Scope) -> Optional[KeyTest]:
        """`node` as one test of the key or of requires_grad, or None."""
        if is_value(node, it, "requires_grad"):
            return KeyTest(KeyTestKind.GRAD, True, node)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self._compare(node, it, scope)
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("startswith", "endswith") and is_key(func.value, it):
            if len(node.args) != 1:
                return None
            needles = node.args[0].elts if isinstance(node.args[0], ast.Tuple) else [node.args[0]]
            return self._any_needle(node, needles, scope, regex=False)
        name = called_name(func)
        if name in ("search", "match", "fullmatch") and len(node.args) >= 1:
            if self.facts.origin(func) in _REGEX_CALLS:
                if len(node.args) >= 2 and is_key(node.args[1], it):
                    return self._any_needle(node, [node.args[0]], scope, regex=True)
                return None
            if isinstance(func, ast.Attribute) and is_key(node.args[0], it):
                pattern = self._compiled(func.value, scope)
                return self._any_needle(node, [pattern], scope, regex=True) if pattern is not None else None
            return None
        if name == "any" and isinstance(func, ast.Name) and len(node.args) == 1:
            return self._any_of(node, node.args[0], it, scope)
        return None

    def _needle(self, node: ast.expr, positive: bool, needle: Optional[Needle]) -> Optional[KeyTest]:
        return KeyTest(KeyTestKind.NEEDLE, positive, node, needle) if needle else None

    def _compare(self, node: ast.Compare, it: Iteration, scope: Scope) -> Optional[KeyTest]:
        left, op, right = node.left, node.ops[0], node.comparators[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            if is_key(right, it) or _is_split_key(right, it):
                return self._needle(node, isinstance(op, ast.In), needle_of(self.facts, left, scope))
            if is_key(left, it) and self._trainable_names(right, scope):
                return KeyTest(KeyTestKind.GRAD, isinstance(op, ast.In), node)
            return None
        if isinstance(op, (ast.Is, ast.Eq, ast.IsNot, ast.NotEq)) and is_value(left, it, "requires_grad"):
            if isinstance(right, ast.Constant) and isinstance(right.value, bool):
                return KeyTest(KeyTestKind.GRAD, right.value == isinstance(op, (ast.Is, ast.Eq)), node)
            return None
        if isinstance(op, (ast.Eq, ast.NotEq)):
            for part, other in ((left, right), (right, left)):
                if isinstance(part, ast.Subscript) and _is_split_key(part.value, it):
                    return self._needle(node, isinstance(op, ast.Eq), needle_of(self.facts, other, scope))
        if (
            isinstance(left, ast.Call)
            and isinstance(left.func, ast.Attribute)
            and left.func.attr in ("find", "rfind")
            and is_key(left.func.value, it)
            and len(left.args) == 1
            and isinstance(right, (ast.Constant, ast.UnaryOp))
        ):
            bound = int_value(right)
            if bound is None:
                return None
            positive = {
                ast.NotEq: bound == -1,
                ast.Gt: bound == -1,
                ast.GtE: bound == 0,
                ast.Eq: False if bound == -1 else None,
                ast.Lt: False if bound == 0 else None,
            }.get(type(op))
            if positive is None:
                return None
            return self._needle(node, positive, needle_of(self.facts, left.args[0], scope))
        return None

    def _trainable_names(self, expr: ast.expr, scope: Scope) -> bool:
        """`{n for n, p in model.named_parameters() if p.requires_grad}`, or a variable bound to it."""
        if isinstance(expr, ast.Name):
            found = self.facts._lookup(expr.id, scope)
            if found is None or len(found[0]) != 1:
                return False
            expr, scope = found[0][0]
        if not isinstance(expr, (ast.SetComp, ast.ListComp)) or len(expr.generators) != 1:
            return False
        generator = expr.generators[0]
        if not generator.ifs or not isinstance(expr.elt, ast.Name):
            return False
        iteration = self.values.iteration(generator.target, generator.iter, scope)
        if iteration is None or iteration.walked.kind is not Kind.NAMED_PARAMS or expr.elt.id != iteration.key:
            return False
        tests = [t for condition in generator.ifs for t in self.tests(condition, iteration, scope)]
        return any(t.kind is KeyTestKind.GRAD and t.positive for t in tests) and all(t.positive for t in tests)

    def _any_needle(self, node: ast.expr, needles: list[ast.expr], scope: Scope, regex: bool) -> Optional[KeyTest]:
        for expr in needles:
            needle = needle_of(self.facts, expr, scope, regex=regex)
            if needle is not None:
                return KeyTest(KeyTestKind.NEEDLE, True, node, needle)
        return None

    def _any_of(self, node: ast.expr, arg: ast.expr, it: Iteration, scope: Scope) -> Optional[KeyTest]:
        """`any(m in k for m in MARKERS)` and `any(k.startswith(m) for m in MARKERS)`."""
        if not isinstance(arg, (ast.GeneratorExp, ast.ListComp)) or len(arg.generators) != 1:
            return None
        generator = arg.generators[0]
        if generator.ifs or not isinstance(generator.target, ast.Name):
            return None
        var = generator.target.id
        element = arg.elt
        uses_var = (
            isinstance(element, ast.Compare)
            and len(element.ops) == 1
            and isinstance(element.ops[0], ast.In)
            and isinstance(element.left, ast.Name)
            and element.left.id == var
            and is_key(element.comparators[0], it)
        ) or (
            isinstance(element, ast.Call)
            and isinstance(element.func, ast.Attribute)
            and element.func.attr in ("startswith", "endswith")
            and is_key(element.func.value, it)
            and len(element.args) == 1
            and isinstance(element.args[0], ast.Name)
            and element.args[0].id == var
        )
        if not uses_var:
            return None
        return self._any_needle(
            node, [item for item, _ in self.facts.resolve_many(generator.iter, scope)], scope, False
        )

    def _compiled(self, expr: ast.expr, scope: Scope) -> Optional[ast.expr]:
        """The pattern of `PATTERN = re.compile("...")`."""
        if not isinstance(expr, ast.Name):
            return None
        found = self.facts._lookup(expr.id, scope)
        if found is None or len(found[0]) != 1:
            return None
        value = found[0][0][0]
        if (
            isinstance(value, ast.Call)
            and self.facts.origin(value.func) in ("re.compile", "regex.compile")
            and value.args
        ):
            return value.args[0]
        return None

    def escapes(self, conditions: list[ast.expr], want: bool, it: Iteration, scope: Scope) -> bool:
        """Whether these conditions (all of them must hold) can come out `want` through parts that test neither
        the key nor requires_grad: `or not adapters_only`, `or id(value) in embeddings`. Then entries are kept
        whatever their key is, and the collection is no key filter (unsloth's `tp_full_state_dict`)."""
        if want:
            return all(self._escape(c, True, it, scope) for c in conditions)
        return any(self._escape(c, False, it, scope) for c in conditions)

    def _escape(self, node: ast.expr, want: bool, it: Iteration, scope: Scope) -> bool:
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And) == want:  # `and` holds / `or` fails only if every part does
                return all(self._escape(v, want, it, scope) for v in node.values)
            return any(self._escape(v, want, it, scope) for v in node.values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self._escape(node.operand, not want, it, scope)
        return not (mentions_key(node, it) or self.test(node, it, scope) is not None)


def int_value(node: ast.expr) -> Optional[int]:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = int_value(node.operand)
        return -inner if inner is not None else None
    return None


def is_key(expr: ast.expr, it: Iteration) -> bool:
    """The key of the walked entry, maybe `.lower()`-ed or `str()`-ed."""
    if isinstance(expr, ast.Name):
        return expr.id == it.key
    if isinstance(expr, ast.Subscript):
        return is_pair_item(expr, it, 0)
    if isinstance(expr, ast.Call) and not expr.args:
        func = expr.func
        return (
            isinstance(func, ast.Attribute) and func.attr in ("lower", "casefold", "strip") and is_key(func.value, it)
        )
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "str" and len(expr.args) == 1:
        return is_key(expr.args[0], it)
    return False


def mentions_key(node: ast.expr, it: Iteration) -> bool:
    for inner in walk(node):
        if isinstance(inner, ast.Name) and it.key is not None and inner.id == it.key:
            return True
        if isinstance(inner, ast.Subscript) and is_pair_item(inner, it, 0):
            return True
    return False


def _is_split_key(expr: ast.expr, it: Iteration) -> bool:
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in ("split", "rsplit")
        and is_key(expr.func.value, it)
    )


def is_value(expr: ast.expr, it: Iteration, attr: str) -> bool:
    """`value.attr` (or `pair[1].attr`) of the walked entry."""
    if not (isinstance(expr, ast.Attribute) and expr.attr == attr):
        return False
    owner = expr.value
    if isinstance(owner, ast.Name):
        return owner.id == it.value
    return is_pair_item(owner, it, 1)


def is_pair_item(expr: ast.expr, it: Iteration, index: int) -> bool:
    """`pair[0]` (the key) or `pair[1]` (the value) of a `(key, value)` pair variable."""
    return (
        isinstance(expr, ast.Subscript)
        and isinstance(expr.value, ast.Name)
        and expr.value.id == it.pair
        and int_value(expr.slice) == index
    )
