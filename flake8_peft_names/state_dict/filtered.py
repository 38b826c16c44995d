"""Phase 2: the collections a module builds by filtering a model's parameters (PFT201/PFT202 candidates).

Found with the phase-1 classifier (`RawValues`): a filtered collection's source is a model's own dict or
parameters, which phase 1 knows; what a filtered collection is (`Filtered.value`) is the final view's.
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass, replace
from typing import Iterator, Optional

from ..module_facts import ModuleFacts, Scope, called_name
from .index import Place, Positional
from .key_tests import ConditionReader, KeyTest, KeyTestKind, is_key, is_pair_item
from .values import MODEL_KINDS, Iteration, Kind, RawValues, Value, walking_values

MAX_VALUE_WRAPPERS = 8  # calls, attributes and conditionals around a kept value (`maybe_zero_3(v.data).cpu()`)
_TENSOR_PRESERVING = frozenset(
    "detach cpu cuda clone contiguous to half float bfloat16 double type as_subclass requires_grad_".split()
)
_NOT_TENSORS = frozenset("len str repr int bool float id type print isinstance hasattr getattr tuple list".split())
_PLAIN_VALUE_CALLS = ("detach", "cpu", "clone", "contiguous")


class Form(enum.Enum):
    DICT = "a dict"
    KEYS = "a collection of keys"
    PAIRS = "a collection of (key, value) pairs"
    LOOP = "a dict filled by a loop"


@dataclass
class Filtered:
    """A collection built by filtering a model's parameters."""

    node: ast.expr  # what is reported (and replaced by a fix)
    scope: Scope
    form: Form
    iteration: Iteration
    tests: list[KeyTest]
    simple: bool = False  # a plain `{k: v ... if <one test>}`: a fix can replace it
    target: Optional[tuple[str, Scope]] = None  # for loops: the dict variable they fill
    escapes: bool = False  # an entry may be kept without any key test (`or not adapters_only`, `or id(v) in S`)
    deleting: Optional[ast.For] = None  # the loop that deletes the other entries from `target`, its own source

    @property
    def needles(self) -> list[KeyTest]:
        """The positive marker tests; none when the filter is no key filter (it escapes), or when it only
        picks `modules_to_save` copies (what "lora" filters miss; swift's own modules_to_save renaming)."""
        if self.escapes:
            return []
        found = [t for t in self.tests if t.kind is KeyTestKind.NEEDLE and t.positive]
        if all(t.needle is not None and t.needle.modules_to_save for t in found):
            return []
        return found

    @property
    def grad(self) -> bool:
        return not self.escapes and any(t.kind is KeyTestKind.GRAD and t.positive for t in self.tests)

    @property
    def value(self) -> Optional[Value]:
        """What the collection holds, as a state dict: MANUAL, GRAD, or nothing (a list, no key filter)."""
        if self.form not in (Form.DICT, Form.LOOP):
            return None
        walked = self.iteration.walked
        if self.needles:
            return Value(Kind.MANUAL, walked.model, walked.via)
        if self.grad:
            return Value(Kind.GRAD, walked.model, walked.via)
        return None


@dataclass(frozen=True)
class FilteredCollections:
    by_node: dict[int, Filtered]  # id(node) -> the collection, in the order found
    by_loop_target: dict[Place, Filtered]  # the dict variable a loop fills with a key or grad filter
    by_deleted: dict[Place, Filtered]  # a model's dict variable a loop deletes the other entries from


def filtered_collections(facts: ModuleFacts) -> FilteredCollections:
    return facts.derived(_build_filtered_collections)


def _build_filtered_collections(facts: ModuleFacts) -> FilteredCollections:
    finder = _Finder(facts, walking_values(facts))  # a parameter's callers in other modules too
    found = [*finder.comprehensions(), *finder.filter_calls(), *finder.loops(), *finder.deletions()]
    by_node: dict[int, Filtered] = {}
    by_loop_target: dict[Place, Filtered] = {}
    by_deleted: dict[Place, Filtered] = {}
    for item in found:
        by_node[id(item.node)] = item
        if item.target is None or not (item.needles or item.grad):
            continue
        place = (id(item.target[1]), item.target[0])
        if item.deleting is None:
            by_loop_target[place] = item
        elif item.deleting in getattr(item.scope.node, "body", []):  # runs whenever its scope does: later reads
            by_deleted.setdefault(place, item)  # see what it leaves
    return FilteredCollections(by_node, by_loop_target, by_deleted)


class _Finder:
    def __init__(self, facts: ModuleFacts, values: RawValues) -> None:
        self.facts = facts
        self.values = values
        self.conditions = ConditionReader(facts, values)

    def comprehensions(self) -> Iterator[Filtered]:
        for comp, scope in self.facts.comprehensions:
            generators = getattr(comp, "generators", [])
            if len(generators) != 1 or not generators[0].ifs:
                continue
            generator = generators[0]
            if not self._might_filter(generator.target, generator.ifs, scope):
                continue
            iteration = self.values.iteration(generator.target, generator.iter, scope)
            if iteration is None or iteration.walked.kind not in MODEL_KINDS:
                continue
            tests = [t for condition in generator.ifs for t in self.conditions.tests(condition, iteration, scope)]
            if not tests:
                continue
            node: ast.expr = comp
            form: Optional[Form]
            if isinstance(comp, ast.DictComp):
                if not keeps_values(self.values, comp.value, iteration, scope):
                    continue  # `{name: mask ...}`: not the parameters themselves
                form = Form.DICT
                simple = _is_plain_key(comp.key, iteration) and _is_plain_value(comp.value, iteration)
            else:
                element = getattr(comp, "elt")
                form = _element_form(element, iteration)
                simple = form is Form.PAIRS and _plain_pair(element, iteration)
                if isinstance(comp, ast.GeneratorExp):
                    consumer = self.values.index.consumer_of.get(id(comp))
                    if consumer is None or consumer.slot != Positional(0) or len(consumer.call.args) != 1:
                        continue
                    consumer_name = called_name(consumer.call.func)
                    if consumer_name in ("dict", "OrderedDict"):
                        form, node = Form.DICT, consumer.call
                    elif consumer_name in ("list", "set", "tuple", "sorted", "frozenset") and form:
                        node = consumer.call
                    else:
                        continue
                if not form:
                    continue
            simple = simple and len(generator.ifs) == 1 and len(tests) == 1 and tests[0].node is generator.ifs[0]
            escapes = self.conditions.escapes(generator.ifs, True, iteration, scope)
            yield Filtered(node, scope, form, iteration, tests, simple=simple and form is Form.DICT, escapes=escapes)

    def filter_calls(self) -> Iterator[Filtered]:
        if "filter" in self.facts.local_defs:
            return
        for call, scope in self.facts.calls:
            if not isinstance(call.func, ast.Name) or call.func.id != "filter" or len(call.args) != 2:
                continue
            function, iterable = call.args
            if not isinstance(function, ast.Lambda) or len(function.args.args) != 1:
                continue
            param = ast.Name(id=function.args.args[0].arg, ctx=ast.Store())
            inner = self.facts.scope_of.get(id(function), scope)
            if not self._might_filter(param, [function.body], inner):
                continue
            iteration = self.values.iteration(param, iterable, scope)
            if iteration is None or iteration.walked.kind not in MODEL_KINDS:
                continue
            tests = self.conditions.tests(function.body, iteration, inner)
            if not tests:
                continue
            node: ast.expr = call
            form = Form.PAIRS if iteration.pair else Form.KEYS
            consumer = self.values.index.consumer_of.get(id(call))
            if consumer is not None and consumer.slot == Positional(0) and len(consumer.call.args) == 1:
                name = called_name(consumer.call.func)
                if name in ("dict", "OrderedDict"):
                    form, node = Form.DICT, consumer.call
                elif name in ("list", "set", "tuple", "sorted"):
                    node = consumer.call
            simple = (
                form is Form.DICT and iteration.pair is not None and len(tests) == 1 and tests[0].node is function.body
            )
            escapes = self.conditions.escapes([function.body], True, iteration, inner)
            yield Filtered(node, scope, form, iteration, tests, simple=simple, escapes=escapes)

    def loops(self) -> Iterator[Filtered]:
        for loop, scope in self.facts.loops:
            conditions = [s.test for s in if_statements(loop.body)]
            if not conditions or not self._might_filter(loop.target, conditions, scope):
                continue
            iteration = self.values.iteration(loop.target, loop.iter, scope)
            if iteration is None or iteration.walked.kind not in MODEL_KINDS or iteration.key is None:
                continue
            yield from self._loop_body(loop.body, iteration, scope)

    def _might_filter(self, target: ast.expr, conditions: list[ast.expr], scope: Scope) -> bool:
        """A cheap first look, before the source is classified: does any condition test the key or
        `requires_grad` of what the target names?"""
        if isinstance(target, ast.Tuple) and len(target.elts) == 2:
            key, value = target.elts
            names = Iteration(Value(Kind.MODEL_STATE), key=getattr(key, "id", None), value=getattr(value, "id", None))
        elif isinstance(target, ast.Name):
            names = Iteration(Value(Kind.MODEL_STATE), key=target.id, pair=target.id)
        else:
            return False
        return any(self.conditions.tests(condition, names, scope) for condition in conditions)

    def deletions(self) -> Iterator[Filtered]:
        """`for k in list(sd): if "lora_" not in k: del sd[k]` (or `sd.pop(k)`), where `sd` is a model's dict
        bound once in the loop's scope: what is left is filtered by the opposite of the test."""
        for loop, scope in self.facts.loops:
            source = _copied_keys_of(loop.iter)
            if source is None or len(scope.bindings.get(source, [])) != 1 or source in scope.params:
                continue
            iteration = self.values.iteration(loop.target, loop.iter, scope)
            if iteration is None or iteration.walked.kind not in MODEL_KINDS or iteration.key is None:
                continue
            guard: Optional[ast.expr] = None  # `if "lora_" in k: continue` keeps what passes it
            for statement in loop.body:
                if isinstance(statement, ast.If) and not statement.orelse:
                    if len(statement.body) == 1 and isinstance(statement.body[0], ast.Continue):
                        guard = statement.test
                    elif _deletes(statement.body, source, iteration):
                        yield self._deletion(loop, statement.test, True, source, iteration, scope)
                elif guard is not None and _deletes([statement], source, iteration):
                    yield self._deletion(loop, guard, False, source, iteration, scope)
                    guard = None

    def _deletion(
        self, loop: ast.For, test: ast.expr, deletes_if: bool, source: str, iteration: Iteration, scope: Scope
    ) -> Filtered:
        """Entries for which `test` is `deletes_if` are deleted: the kept ones pass the opposite tests."""
        tests = [replace(t, positive=t.positive != deletes_if) for t in self.conditions.tests(test, iteration, scope)]
        escapes = self.conditions.escapes([test], not deletes_if, iteration, scope)
        return Filtered(
            test, scope, Form.LOOP, iteration, tests, target=(source, scope), escapes=escapes, deleting=loop
        )

    def _loop_body(self, body: list[ast.stmt], iteration: Iteration, scope: Scope) -> Iterator[Filtered]:
        guard: Optional[list[KeyTest]] = None  # `if "lora" not in k: continue` guards what follows
        guard_node: Optional[ast.expr] = None
        guard_escapes = False
        for statement in body:
            if isinstance(statement, ast.If):
                tests = self.conditions.tests(statement.test, iteration, scope)
                if (
                    tests
                    and len(statement.body) == 1
                    and isinstance(statement.body[0], ast.Continue)
                    and not statement.orelse
                ):
                    guard = [KeyTest(t.kind, not t.positive, t.node, t.needle) for t in tests]
                    guard_node = statement.test
                    guard_escapes = self.conditions.escapes(
                        [statement.test], False, iteration, scope
                    )  # kept if it fails
                    continue
                if tests:
                    target = fills_dict(self.values, statement.body, iteration, scope)
                    if target is not None:
                        escapes = self.conditions.escapes([statement.test], True, iteration, scope)
                        yield Filtered(
                            statement.test, scope, Form.LOOP, iteration, tests, target=(target, scope), escapes=escapes
                        )
                if statement.orelse:
                    yield from self._loop_body(statement.orelse, iteration, scope)
            elif guard is not None and guard_node is not None:
                target = fills_dict(self.values, [statement], iteration, scope)
                if target is not None:
                    yield Filtered(
                        guard_node, scope, Form.LOOP, iteration, guard, target=(target, scope), escapes=guard_escapes
                    )
                    guard = None


def keeps_values(
    values: RawValues, expr: ast.expr, it: Iteration, scope: Scope, depth: int = 0, copied: Optional[str] = None
) -> bool:
    """The kept value is the parameter or tensor itself, maybe moved, cast or gathered (`v.cpu()`,
    `maybe_zero_3(v)`, `sd[k]` of a model's dict); not something computed from it (`p.grad`, `p.shape`).
    `copied`: the dict walked by key, whose `copied[k]` is a value too."""
    if depth > MAX_VALUE_WRAPPERS:
        return False
    if isinstance(expr, ast.Name):
        return expr.id in (it.value, it.pair) and expr.id is not None
    if isinstance(expr, ast.Attribute):
        return expr.attr == "data" and keeps_values(values, expr.value, it, scope, depth + 1, copied)
    if isinstance(expr, ast.IfExp):
        return keeps_values(values, expr.body, it, scope, depth + 1, copied) or keeps_values(
            values, expr.orelse, it, scope, depth + 1, copied
        )
    if isinstance(expr, ast.Subscript):
        if is_key(expr.slice, it):
            if copied is not None and isinstance(expr.value, ast.Name) and expr.value.id == copied:
                return True
            found = values.classify(expr.value, scope)
            return found is not None and found.kind in MODEL_KINDS
        return is_pair_item(expr, it, 1)
    if isinstance(expr, ast.Call):
        func = expr.func
        if isinstance(func, ast.Attribute):
            return func.attr in _TENSOR_PRESERVING and keeps_values(values, func.value, it, scope, depth + 1, copied)
        if isinstance(func, ast.Name) and func.id not in _NOT_TENSORS and expr.args:
            return keeps_values(values, expr.args[0], it, scope, depth + 1, copied)  # maybe_zero_3(v), gather(v)
    return False


def fills_dict(
    values: RawValues, body: list[ast.stmt], it: Iteration, scope: Scope, copied: Optional[str] = None
) -> Optional[str]:
    """`D[<key expression>] = <the parameter>` in a block (not in nested loops or functions): the name D."""
    for statement in body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and any(isinstance(n, ast.Name) and n.id == it.key for n in ast.walk(target.slice))
                    and keeps_values(values, statement.value, it, scope, copied=copied)
                ):
                    return target.value.id
        elif isinstance(statement, ast.Expr):
            filled = _updated(values, statement.value, it, scope, copied)
            if filled is not None:
                return filled
        elif isinstance(statement, ast.If):
            found = fills_dict(values, statement.body, it, scope, copied)
            if found is not None:
                return found
    return None


def _copied_keys_of(iterable: ast.expr) -> Optional[str]:
    """`D` of `list(D)`, `list(D.keys())`, `list(D.items())` (or `tuple`, `sorted`): a copy of its keys, so
    that the loop may delete from `D` (deleting while walking `D` itself raises)."""
    if not (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Name)
        and iterable.func.id in ("list", "tuple", "sorted")
        and len(iterable.args) == 1
    ):
        return None
    walked = iterable.args[0]
    if isinstance(walked, ast.Call) and isinstance(walked.func, ast.Attribute) and not walked.args:
        walked = walked.func.value if walked.func.attr in ("keys", "items") else walked
    return walked.id if isinstance(walked, ast.Name) else None


def _deletes(body: list[ast.stmt], source: str, it: Iteration) -> bool:
    """A block that deletes the walked entry from `source`: `del source[k]` or `source.pop(k)`."""
    for statement in body:
        if isinstance(statement, ast.Delete):
            if any(
                isinstance(t, ast.Subscript)
                and isinstance(t.value, ast.Name)
                and t.value.id == source
                and is_key(t.slice, it)
                for t in statement.targets
            ):
                return True
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            if (
                isinstance(call.func, ast.Attribute)
                and call.func.attr == "pop"
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id == source
                and 1 <= len(call.args) <= 2
                and is_key(call.args[0], it)
            ):
                return True
    return False


def _updated(
    values: RawValues, call: ast.expr, it: Iteration, scope: Scope, copied: Optional[str]
) -> Optional[str]:
    """`D.update({<key expression>: <the parameter>, ...})`, every entry so: the name D."""
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "update"
        and isinstance(call.func.value, ast.Name)
        and len(call.args) == 1
        and not call.keywords
        and isinstance(call.args[0], ast.Dict)
        and call.args[0].keys
    ):
        return None
    entries = call.args[0]
    for key, value in zip(entries.keys, entries.values):
        if key is None or not any(isinstance(n, ast.Name) and n.id == it.key for n in ast.walk(key)):
            return None
        if not keeps_values(values, value, it, scope, copied=copied):
            return None
    return call.func.value.id


def if_statements(body: list[ast.stmt]) -> Iterator[ast.If]:
    """The `if` statements of a block and their `elif`/`else` branches (not nested loops or bodies)."""
    for statement in body:
        if isinstance(statement, ast.If):
            yield statement
            yield from if_statements(statement.orelse)


def _is_plain_key(expr: ast.expr, it: Iteration) -> bool:
    return isinstance(expr, ast.Name) and expr.id == it.key


def _is_plain_value(expr: ast.expr, it: Iteration) -> bool:
    """The value itself, maybe `.detach()`, `.cpu()`, `.clone()`, `.contiguous()`."""
    while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and not expr.args:
        if expr.func.attr not in _PLAIN_VALUE_CALLS:
            return False
        expr = expr.func.value
    return isinstance(expr, ast.Name) and expr.id == it.value


def _plain_pair(element: ast.expr, it: Iteration) -> bool:
    if isinstance(element, ast.Name):
        return element.id == it.pair
    return (
        isinstance(element, ast.Tuple)
        and len(element.elts) == 2
        and _is_plain_key(element.elts[0], it)
        and _is_plain_value(element.elts[1], it)
    )


def _element_form(element: ast.expr, it: Iteration) -> Optional[Form]:
    """A list of keys, a list of (key, value) pairs, or neither (values only: optimizer groups, counts)."""
    if is_key(element, it):
        return Form.KEYS
    if isinstance(element, ast.Name) and element.id == it.pair:
        return Form.PAIRS
    if isinstance(element, ast.Tuple) and len(element.elts) == 2 and is_key(element.elts[0], it):
        return Form.PAIRS
    return None
