"""Where a state-dict value goes: saved, handed to peft, only counted or logged, or key bookkeeping."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Iterator, Optional

from ..module_facts import Scope, called_name
from ..walk import walk
from .filtered import fills_dict
from .index import ArgSlot, Keyword, MethodCall, Positional, index_of
from .key_tests import ConditionReader, mentions_key
from .values import Iteration, Kind, RawValues, Value

_COUNT_OR_LOG = frozenset(
    "len sum print any all min max info debug warning warn error log write set_postfix pprint format".split()
)
_SAVES = frozenset({"save", "save_file", "save_model", "save_torch_state_dict", "save_state_dict"})
_SAVED_SLOTS = frozenset({Positional(0), Keyword("obj"), Keyword("tensors"), Keyword("state_dict")})
_STATE_DICT = Keyword("state_dict")
_INTO_PEFT_SLOTS = frozenset({Positional(1), _STATE_DICT})
_SAVE_FUNCTION = re.compile(r"save|state|checkpoint|ckpt", re.IGNORECASE)
_SAVE_CALL = re.compile(r"save|checkpoint|ckpt", re.IGNORECASE)  # a called name that says it writes
_LOADS = frozenset({"load_state_dict", "set_peft_model_state_dict"})
_PRE_FILTER_SAVES = frozenset({"save_pretrained", "_save"})  # hand `state_dict=` on to get_peft_model_state_dict
# Methods of a set or list of key names kept for a check (`missing_keys.remove(key)`), returning no collection.
_KEY_BOOKKEEPING = frozenset(
    "remove discard add append pop clear sort update difference_update intersection_update issubset issuperset "
    "isdisjoint count index extend insert".split()
)
_COPIES_FOLLOWED = 2  # copies of a dict made by a loop (an FSDP gather), followed to where the copy goes


@dataclass
class Flows:
    calls: list[tuple[ast.Call, ArgSlot]] = field(default_factory=list)  # (call, argument slot)
    returned_from: list[Scope] = field(default_factory=list)
    methods: set[str] = field(default_factory=set)  # `var.values()`, ...
    pretrained: list[tuple[ast.Call, Scope]] = field(default_factory=list)  # `X.save_pretrained(state_dict=it)`
    loops: list[ast.For] = field(default_factory=list)  # loops over it that copy it nowhere

    def add(self, call: ast.Call, slot: ArgSlot, scope: Scope) -> None:
        self.calls.append((call, slot))
        if slot == _STATE_DICT and called_name(call.func) in _PRE_FILTER_SAVES:
            self.pretrained.append((call, scope))

    def merge(self, other: Flows) -> None:
        self.calls += other.calls
        self.returned_from += other.returned_from
        self.methods |= other.methods
        self.pretrained += other.pretrained
        self.loops += other.loops

    def into_peft(self) -> bool:
        """Handed to `get_peft_model_state_dict(model, state_dict=...)` (or transformers' equivalent)."""
        return any(
            called_name(call.func) in ("get_peft_model_state_dict", "get_adapter_state_dict")
            and slot in _INTO_PEFT_SLOTS
            for call, slot in self.calls
        )

    def into_save_pretrained(self) -> bool:
        """Handed to `model.save_pretrained(..., state_dict=...)` (or `Trainer._save`), which passes it on to
        get_peft_model_state_dict."""
        return any(called_name(call.func) in _PRE_FILTER_SAVES and slot == _STATE_DICT for call, slot in self.calls)

    def saved(self, pre_filters: bool = True) -> bool:
        """Written to a file, or returned from a function whose name says it saves or builds a state dict;
        without `pre_filters`, handing it to `save_pretrained(state_dict=...)` does not count."""
        for call, slot in self.calls:
            name = called_name(call.func)
            if name in _SAVES and slot in _SAVED_SLOTS:
                return True
            if name == "save_model" and slot == _STATE_DICT:
                return True
            if pre_filters and name in _PRE_FILTER_SAVES and slot == _STATE_DICT:
                return True
        return any(_SAVE_FUNCTION.search(getattr(s.node, "name", "")) for s in self.returned_from)

    def checkpoint(self) -> bool:
        """Used as a checkpoint: saved (`saved`), handed to a call whose name says it saves (`save_adapter(sd,
        path)`, `self.save_checkpoint(sd)`), or loaded into a model (`load_state_dict`,
        `set_peft_model_state_dict`)."""
        return (
            self.saved()
            or any(_is_sink(call) for call, _ in self.calls)
            or any(_is_sink(call) for loop in self.loops for call in _calls_in(loop.body))
        )

    def restored_into(self) -> set[str]:
        """The models (as written) it is loaded into with `X.load_state_dict(it, ...)`."""
        return {
            ast.unparse(call.func.value)
            for call, slot in self.calls
            if isinstance(call.func, ast.Attribute) and call.func.attr == "load_state_dict" and slot == Positional(0)
        }

    def only_restored(self) -> bool:
        """Loaded back with `X.load_state_dict(it)` and neither saved, returned nor handed to another sink: an
        in-memory copy (a best epoch, an EMA)."""
        if not self.restored_into() or self.saved() or self.returned_from:
            return False
        return all(called_name(call.func) == "load_state_dict" or not _is_sink(call) for call, _ in self.calls)

    def bookkeeping_only(self) -> bool:
        """A set or list of key names kept for a check (`missing_keys.remove(key)`), never handed on whole."""
        return (
            not self.returned_from
            and bool(self.methods)
            and self.methods <= _KEY_BOOKKEEPING
            and all(called_name(call.func) in _COUNT_OR_LOG for call, _ in self.calls)
        )

    def only_counted(self) -> bool:
        """Used only to count, print or feed an optimizer (`.values()`), or looped over only to print each
        entry; never as a whole elsewhere."""
        if self.returned_from or self.methods - {"values"}:
            return False
        if not self.calls and not self.methods and not self.loops:
            return False
        return all(called_name(call.func) in _COUNT_OR_LOG for call, _ in self.calls) and all(
            all(_logs(statement) for statement in loop.body) for loop in self.loops
        )


class FlowTracer:
    """Follows values of one module to their uses; `values` reads what a dict indexed in a copy loop is."""

    def __init__(self, values: RawValues) -> None:
        self.values = values
        self.index = index_of(values.facts)
        self.conditions = ConditionReader(values.facts, values)

    def flows(self, node: ast.AST, scope: Scope, variable: Optional[tuple[str, Scope]] = None, depth: int = 0) -> Flows:
        """Where the value of `node` goes: the call it is passed to, the function it is returned from, and
        every use of the variable it is bound to (`variable`, else its own binding) until that is rebound."""
        flows = Flows()
        consumer = self.index.consumer_of.get(id(node))
        if consumer is not None:
            flows.add(consumer.call, consumer.slot, consumer.scope)
        if id(node) in self.index.returned:
            flows.returned_from.append(self.index.returned[id(node)])
        variable = variable or self.index.bound.get(id(node))
        if variable is None:
            return flows
        name, bound_scope = variable
        start = _position(node)
        end = self._rebound(name, bound_scope, start)  # uses after this see another value
        if depth < _COPIES_FOLLOWED:  # `for k, v in d.items(): copy[k] = v.cpu()` (an FSDP gather): where the copy goes
            for loop in self.index.loops_over.get((id(bound_scope), name), []):
                if _position(loop) <= start or (end is not None and _position(loop) >= end):
                    continue
                copy = self._copy_target(loop, name, bound_scope)
                if copy is not None and copy != name:
                    flows.merge(self.flows(loop, bound_scope, (copy, bound_scope), depth + 1))
                elif copy is None:
                    flows.loops.append(loop)
        looped = {id(loop.iter) for loop in flows.loops}  # `for k, v in d.items()`: the loop stands for `.items()`
        for call, use in self.index.name_uses.get((id(bound_scope), name), []):
            if end is not None and _position(call) >= end:
                continue
            if isinstance(use, MethodCall):
                if id(call) not in looped:
                    flows.methods.add(use.name)
            else:
                flows.add(call, use, bound_scope)
        for ret in self.index.returns.get(id(bound_scope), []):
            if isinstance(ret.value, ast.Name) and ret.value.id == name and (end is None or _position(ret) < end):
                flows.returned_from.append(bound_scope)
        return flows

    def callers_flows(self, function_scope: Scope) -> list[Flows]:
        """Where the results of calls of a function defined here go."""
        name = getattr(function_scope.node, "name", None)
        if name is None:
            return []
        return [self.flows(call, scope) for call, scope in self.index.calls_by_name.get(name, [])]

    def _rebound(self, name: str, scope: Scope, after: tuple[int, int]) -> Optional[tuple[int, int]]:
        """Where a statement of the scope's own body (run whenever the scope runs, in order) binds `name` to
        another collection after `after`: a new value, or a part of it chosen by a key test of the module's own
        (`d = {k: v for k, v in d.items() if is_vit_param(k)}`); not a copy, a cast or a part of it that only
        leaves entries out or tests what the rules read (`d = {k: v.cpu() for k, v in d.items()}`)."""
        body = getattr(scope.node, "body", None)
        if not isinstance(body, list):
            return None
        for statement in body:
            if _position(statement) <= after:
                continue
            value = _rebinding(statement, name)
            if value is None:
                continue
            if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(value)) and not self._narrows(
                value, scope
            ):
                continue
            return (statement.end_lineno or statement.lineno, statement.end_col_offset or 0)
        return None

    def _narrows(self, value: ast.expr, scope: Scope) -> bool:
        """A comprehension in `value` keeps only the entries that pass a key test the rules do not read."""
        for comp in ast.walk(value):
            if not isinstance(comp, (ast.DictComp, ast.ListComp, ast.SetComp, ast.GeneratorExp)) or not comp.generators:
                continue
            target = comp.generators[0].target
            key = target.elts[0] if isinstance(target, ast.Tuple) and target.elts else target
            if not isinstance(key, ast.Name):
                continue
            it = Iteration(Value(Kind.MANUAL), key=key.id)
            if any(self._own_key_test(c, True, it, scope) for g in comp.generators for c in g.ifs):
                return True
        return False

    def _own_key_test(self, node: ast.expr, positive: bool, it: Iteration, scope: Scope) -> bool:
        if isinstance(node, ast.BoolOp):
            return any(self._own_key_test(v, positive, it, scope) for v in node.values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self._own_key_test(node.operand, not positive, it, scope)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.NotIn, ast.NotEq)):
            positive = not positive  # `"vision" not in k` leaves entries out
        return positive and mentions_key(node, it) and self.conditions.test(node, it, scope) is None

    def _copy_target(self, loop: ast.For, name: str, scope: Scope) -> Optional[str]:
        """The dict a loop over `name` (`.items()`, `.keys()` or itself) fills with its values, unfiltered."""
        walked = loop.iter
        items = isinstance(walked, ast.Call) and isinstance(walked.func, ast.Attribute) and walked.func.attr == "items"
        if isinstance(walked, ast.Call) and not items and getattr(walked.func, "attr", None) != "keys":
            return None
        target = loop.target
        if items and isinstance(target, ast.Tuple) and len(target.elts) == 2:
            key, value = target.elts
            if not (isinstance(key, ast.Name) and isinstance(value, ast.Name)):
                return None
            iteration = Iteration(Value(Kind.MANUAL), key=key.id, value=value.id)
        elif not items and isinstance(target, ast.Name):
            iteration = Iteration(Value(Kind.MANUAL), key=target.id)
        else:
            return None
        if any(isinstance(s, ast.If) and mentions_key(s.test, iteration) for s in loop.body):
            return None  # filtered again
        return fills_dict(self.values, loop.body, iteration, scope, copied=name)


def _is_sink(call: ast.Call) -> bool:
    name = called_name(call.func) or ""
    return _SAVE_CALL.search(name) is not None or name in _LOADS


def _calls_in(body: list[ast.stmt]) -> Iterator[ast.Call]:
    """`torch.save(tensor, f"{name}.pt")` in a loop over the entries: each entry written on its own."""
    for statement in body:
        for node in walk(statement):
            if isinstance(node, ast.Call):
                yield node


def _logs(statement: ast.stmt) -> bool:
    """`print(...)`, `logger.info(...)`: a statement that only shows something."""
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and called_name(statement.value.func) in _COUNT_OR_LOG
    )


def _position(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def _rebinding(statement: ast.stmt, name: str) -> Optional[ast.expr]:
    """The value `statement` binds `name` to, if it is a plain assignment of it."""
    if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets):
        return statement.value
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.value if statement.target.id == name else None
    return None
