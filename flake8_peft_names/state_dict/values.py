"""Phase 1: what a state-dict expression holds, before the module's filtered collections are known.

Kinds of values:
- MODEL_STATE: a model's `state_dict()` (or `accelerator.get_state_dict(model)`): PEFT's in-memory keys;
- NAMED_PARAMS: `named_parameters()`, pairs of (name, parameter);
- PEFT_STATE: `get_peft_model_state_dict(...)`, `load_peft_weights(...)`: PEFT's checkpoint format;
- ADAPTER_FILE / LOADED_FILE: a checkpoint loaded from `adapter_model.*` / from any other file;
- MANUAL / GRAD: a dict filtered by hand by a PEFT key marker / by `requires_grad` (PFT201 / PFT202); only
  the final view (`view.Values`), which knows the filtered collections, gives these.
"""

from __future__ import annotations

import ast
import enum
import re
from dataclasses import dataclass, field
from typing import Iterable, Optional, Union

from ..module_facts import UNKNOWN, ForeignCall, ModuleFacts, Scope, call_argument, called_name
from .adapter_files import adapter_file
from .index import Index, MethodCall, index_of
from .models import ModelRef, model_of

MAX_VALUE_HOPS = 8  # bindings, arguments, returns and wrapping calls followed to classify a value


class Kind(enum.Enum):
    MODEL_STATE = "a model's state_dict()"
    NAMED_PARAMS = "named_parameters()"
    PEFT_STATE = "get_peft_model_state_dict()"
    ADAPTER_FILE = "a loaded adapter_model file"
    LOADED_FILE = "a loaded checkpoint file"
    MANUAL = "a dict filtered by an adapter key marker"
    GRAD = "a dict of the parameters with requires_grad"


MODEL_KINDS = frozenset({Kind.MODEL_STATE, Kind.NAMED_PARAMS})
FILE_KINDS = frozenset({Kind.PEFT_STATE, Kind.ADAPTER_FILE, Kind.LOADED_FILE})


@dataclass(frozen=True, eq=False)
class Via:
    """What other modules of the project told about a value the module alone does not know (only with the
    project pass): `note` says where, for the message; `modules` are those modules' facts, whose peft imports
    and configs count as they would if the code were all in one file."""

    note: str
    modules: tuple[ModuleFacts, ...] = field(repr=False)


@dataclass(frozen=True)
class Value:
    """What a state-dict expression holds."""

    kind: Kind
    model: Optional[ModelRef] = None  # the model it was taken from, when statically clear at the use
    via: Optional[Via] = field(default=None, compare=False)  # known only through other modules


@dataclass(frozen=True)
class Iteration:
    """How a loop or comprehension walks a value: its key variable, value variable, or (key, value) pair variable."""

    walked: Value
    key: Optional[str] = None
    value: Optional[str] = None
    pair: Optional[str] = None


_NAMED_PARAM_PARAMETERS = frozenset({"named_params", "named_parameters"})
_NOT_A_MODEL = re.compile(r"optim|sched|scaler", re.IGNORECASE)
_EDITS = frozenset(MethodCall(m) for m in ("pop", "update", "setdefault", "clear", "__setitem__"))
_LOADERS = ("torch.load", "safetensors.torch.load", "safetensors.torch.load_file")


class RawValues:
    """Classifies the expressions of one module, memoised per expression and scope. Knows no filtered
    collection: a dict filtered by hand is what it was filtered from, or nothing (see `view.Values`)."""

    def __init__(self, facts: ModuleFacts, across: bool = False) -> None:
        self.facts = facts
        self.across = across and facts.across is not None  # ask other modules about a parameter (phase 2)
        self._memo: dict[tuple[int, int], Optional[Value]] = {}

    @property
    def index(self) -> Index:
        """Built when first needed: most filters are dismissed by their condition alone."""
        return index_of(self.facts)

    def classify(self, expr: ast.expr, scope: Scope, depth: int = 0) -> Optional[Value]:
        if depth > MAX_VALUE_HOPS:
            return None
        key = (id(expr), id(scope))
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = None  # a cycle resolves to "unknown"
        result = self._classify(expr, scope, depth)
        self._memo[key] = result
        return result

    def _classify(self, expr: ast.expr, scope: Scope, depth: int) -> Optional[Value]:
        if isinstance(expr, ast.Call):
            return self._call(expr, scope, depth)
        if isinstance(expr, ast.Name):
            return self._name(expr.id, scope, depth)
        if isinstance(expr, ast.DictComp):
            return self._built(expr, scope, depth)
        return None

    def _filled(self, name: str, scope: Scope) -> Optional[Value]:
        """The value of a dict variable that a filtering loop fills: none known in this phase."""
        return None

    def _call(self, call: ast.Call, scope: Scope, depth: int) -> Optional[Value]:
        func = call.func
        name = called_name(func)
        if name is None:
            return None
        if isinstance(func, ast.Attribute):
            receiver = func.value
            if name == "state_dict":
                if _NOT_A_MODEL.search(ast.unparse(receiver)):
                    return None
                return Value(Kind.MODEL_STATE, model_of(receiver))
            if name == "named_parameters":
                return Value(Kind.NAMED_PARAMS, model_of(receiver))
            if name == "get_state_dict" and call.args:  # accelerate's Accelerator.get_state_dict(model)
                return Value(Kind.MODEL_STATE, model_of(call.args[0]))
            if name == "_zero3_consolidated_16bit_state_dict":
                return Value(Kind.MODEL_STATE)
            if name == "get_adapter_state_dict":
                return Value(Kind.PEFT_STATE)
        if name in ("get_peft_model_state_dict", "load_peft_weights"):
            return Value(Kind.PEFT_STATE)
        if name in ("dict", "OrderedDict") and len(call.args) == 1 and not call.keywords:
            inner = self._iterable(call.args[0], scope, depth)
            if inner is not None and inner.kind is Kind.NAMED_PARAMS:
                return Value(Kind.MODEL_STATE, inner.model, inner.via)
            if isinstance(call.args[0], ast.GeneratorExp):
                return self._built(call.args[0], scope, depth)
            return inner
        if name in ("list", "tuple", "sorted") and len(call.args) == 1:
            inner = self.classify(call.args[0], scope, depth + 1)
            return inner if inner is not None and inner.kind is Kind.NAMED_PARAMS else None
        if name == "load_file" or self.facts.origin(call.func) in _LOADERS:
            path = call_argument(call, 0, "filename", "f", "path")
            if path is None:
                return Value(Kind.LOADED_FILE)
            return Value(Kind.ADAPTER_FILE if adapter_file(self.facts, path, scope) else Kind.LOADED_FILE)
        if isinstance(func, ast.Name) and name in self.facts.local_defs:
            return self._helper_result(name, depth)
        return None

    def _helper_result(self, name: str, depth: int) -> Optional[Value]:
        """What a function defined in this module returns, when every return agrees."""
        for function, _ in self.facts.functions:
            if getattr(function, "name", None) != name:
                continue
            inner = self.facts.scope_of.get(id(function))
            if inner is None:
                return None
            found = {
                self.classify(r.value, inner, depth + 1)
                for r in self.index.returns.get(id(inner), [])
                if r.value is not None
            }
            kinds = {v.kind for v in found if v is not None}
            if len(kinds) == 1 and None not in found:
                return Value(kinds.pop(), via=_via_of(found))
            return None
        return None

    def _iterable(self, expr: ast.expr, scope: Scope, depth: int) -> Optional[Value]:
        """`X.items()` -> what X is; anything else -> what it is."""
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "items"
            and not expr.args
        ):
            return self.classify(expr.func.value, scope, depth + 1)
        return self.classify(expr, scope, depth + 1)

    def _name(self, name: str, scope: Scope, depth: int) -> Optional[Value]:
        if name in self.facts.imports:
            return None
        current: Optional[Scope] = scope
        while current is not None:
            if name in current.params:
                if name in _NAMED_PARAM_PARAMETERS:
                    return Value(Kind.NAMED_PARAMS)
                if name in current.bindings:  # `if state_dict is None: state_dict = model.state_dict()`
                    found = self._agree(current.bindings[name], current, depth)
                    passed = self._passed(name, current, depth)
                    if found is not None and found.kind in MODEL_KINDS and passed <= {found.kind}:
                        return Value(found.kind)
                    return None
                return self._parameter(name, current, depth)
            if name in current.bindings:
                filled = self._filled(name, current)
                if filled is not None:
                    return filled
                found = self._agree(current.bindings[name], current, depth)
                if found is not None and found.kind in FILE_KINDS and self._edited(name, current):
                    return None  # keys renamed or entries added by hand: no longer PEFT's format
                return found
            current = current.parent
            while current is not None and current.is_class and current is not scope:
                current = current.parent
        return None

    def _edited(self, name: str, scope: Scope) -> bool:
        if (id(scope), name) in self.facts.mutated:
            return True
        return any(use in _EDITS for _, use in self.index.name_uses.get((id(scope), name), []))

    def _agree(self, bound: list[ast.expr], scope: Scope, depth: int) -> Optional[Value]:
        """The one kind every binding gives; `x = None` placeholders (`best_state = None` before the loop that
        fills it) are left out when another binding is known."""
        if any(not _is_none(v) for v in bound):
            bound = [v for v in bound if not _is_none(v)]
        found = [self.classify(v, scope, depth + 1) if v is not UNKNOWN else None for v in bound]
        known = [v for v in found if v is not None]
        if not found or len(known) != len(found):
            return None
        kinds = {v.kind for v in known}
        if len(kinds) != 1:
            return None
        models = {v.model for v in known}
        return Value(kinds.pop(), models.pop() if len(models) == 1 else None, _via_of(known))

    def _parameter(self, name: str, scope: Scope, depth: int) -> Optional[Value]:
        """A function parameter other than `named_params`: what callers in this module pass it."""
        kinds = self._passed(name, scope, depth)
        if not kinds and self.across:
            return self._passed_across(name, scope, depth)
        if kinds & FILE_KINDS or len(kinds) != 1:
            return None
        kind = kinds.pop()
        return Value(kind) if kind in MODEL_KINDS else None

    def _passed_across(self, name: str, scope: Scope, depth: int) -> Optional[Value]:
        """A parameter no call in this module gives a known value: what the calls of its function in the other
        modules of the project pass it, judged as `_parameter` judges calls in this module (the project pass,
        one module away: those modules' own parameters are not followed further)."""
        function = scope.node
        across = self.facts.across
        exported = exported_function(self.facts, scope)
        if across is None or exported is None or not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        method = exported[1]
        positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        position = positional.index(name) - (1 if method else 0) if name in positional else None
        if position is not None and position < 0:
            return None
        found: list[tuple[ForeignCall, ast.expr, Value]] = []
        for call in across.calls(function.name, method):
            arg = call_argument(call.call, position, name)
            if arg is None:
                continue
            value = raw_values(call.facts).classify(arg, call.scope, depth + 1)
            if value is not None:
                found.append((call, arg, value))
        kinds = {value.kind for _, _, value in found}
        if len(kinds) != 1 or kinds & FILE_KINDS or not kinds <= MODEL_KINDS:
            return None
        first, arg, value = found[0]
        shown = ast.unparse(arg) if len(ast.unparse(arg)) <= 60 else value.kind.value
        more = f" (and {len(found) - 1} other call{'s' * (len(found) > 2)})" if len(found) > 1 else ""
        note = f"called with {shown} from {first.where}{more}"
        return Value(kinds.pop(), via=Via(note, tuple({id(c.facts): c.facts for c, _, _ in found}.values())))

    def _passed(self, name: str, scope: Scope, depth: int) -> set[Kind]:
        """The kinds of value that calls in this module pass to a parameter (unknown ones left out)."""
        function = scope.node
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return set()
        positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        method = scope.enclosing_class is not None and bool(positional) and positional[0] in ("self", "cls")
        kinds: set[Kind] = set()
        for call, caller_scope in self.index.calls_by_name.get(function.name, []):
            if isinstance(call.func, ast.Attribute) != method:
                continue
            position = positional.index(name) - (1 if method else 0) if name in positional else 10**6
            arg = call_argument(call, position, name) if position >= 0 else None
            if arg is None:
                continue
            found = self.classify(arg, caller_scope, depth + 1)
            if found is not None:
                kinds.add(found.kind)
        return kinds

    def _built(self, comp: Union[ast.DictComp, ast.GeneratorExp], scope: Scope, depth: int) -> Optional[Value]:
        """A dict built by a comprehension without a condition: a copy of its source."""
        if len(comp.generators) != 1:
            return None
        generator = comp.generators[0]
        iteration = self.iteration(generator.target, generator.iter, scope, depth)
        if iteration is None:
            handle = self._handle_keys(generator.iter, scope)
            return handle if handle is not None and not generator.ifs else None
        if generator.ifs:
            return None
        walked = iteration.walked
        if walked.kind in MODEL_KINDS:
            return Value(Kind.MODEL_STATE, walked.model, walked.via)
        if isinstance(comp, ast.DictComp):
            plain_key = isinstance(comp.key, ast.Name) and comp.key.id == iteration.key
        else:
            element = comp.elt
            plain_key = (
                isinstance(element, ast.Tuple)
                and len(element.elts) == 2
                and isinstance(element.elts[0], ast.Name)
                and element.elts[0].id == iteration.key
            )
        return walked if plain_key else None

    def _handle_keys(self, iterable: ast.expr, scope: Scope) -> Optional[Value]:
        """`f.keys()` of `with safe_open(path) as f`: a loaded file."""
        if not (
            isinstance(iterable, ast.Call)
            and isinstance(iterable.func, ast.Attribute)
            and iterable.func.attr == "keys"
            and isinstance(iterable.func.value, ast.Name)
        ):
            return None
        opened = self.index.handles.get((id(scope), iterable.func.value.id))
        if not isinstance(opened, ast.Call) or called_name(opened.func) != "safe_open":
            return None
        path = call_argument(opened, 0, "filename")
        adapter = path is not None and adapter_file(self.facts, path, scope)
        return Value(Kind.ADAPTER_FILE if adapter else Kind.LOADED_FILE)

    def iteration(self, target: ast.expr, iterable: ast.expr, scope: Scope, depth: int = 0) -> Optional[Iteration]:
        """What a `for target in iterable` walks, if it is a model's parameters or a known dict."""
        items = False
        inner = iterable
        while (
            isinstance(inner, ast.Call)
            and called_name(inner.func) in ("list", "sorted", "tuple")
            and len(inner.args) == 1
        ):
            inner = inner.args[0]
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and not inner.args:
            method = inner.func
            if method.attr == "items":
                items, inner = True, method.value
            elif method.attr == "keys":
                inner = method.value
        walked = self.classify(inner, scope, depth + 1)
        if walked is None:
            return None
        if items or walked.kind is Kind.NAMED_PARAMS:
            if isinstance(target, ast.Tuple) and len(target.elts) == 2:
                key, value = target.elts
                return Iteration(
                    walked,
                    key=key.id if isinstance(key, ast.Name) else None,
                    value=value.id if isinstance(value, ast.Name) else None,
                )
            if isinstance(target, ast.Name):
                return Iteration(walked, pair=target.id)
            return None
        if isinstance(target, ast.Name):
            return Iteration(walked, key=target.id)
        return None


def exported_function(facts: ModuleFacts, scope: Scope) -> Optional[tuple[str, bool]]:
    """(name, is a method) of a module-level function or a method of a module-level class, which other modules
    may call; None for anything else (a nested function, a lambda, a static method)."""
    function = scope.node
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    module = facts.module_scope
    if scope.parent is module:
        return function.name, False
    owner = scope.enclosing_class
    positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if owner is not None and owner.parent is module and positional and positional[0] in ("self", "cls"):
        return function.name, True
    return None


def walking_values(facts: ModuleFacts) -> RawValues:
    """Phase 1 as the filters' sources are classified: with the project pass, a parameter no call in the module
    explains is asked of the calls in other modules (`RawValues.across`). Built once per module."""
    return facts.derived(_walking_values)


def _walking_values(facts: ModuleFacts) -> RawValues:
    return RawValues(facts, across=True)


def raw_values(facts: ModuleFacts) -> RawValues:
    """Phase 1 of another module of the project, built once per module read."""
    return facts.derived(RawValues)


def _via_of(values: Iterable[Optional[Value]]) -> Optional[Via]:
    """The first of some values' `via`s: what made one of them known through other modules."""
    return next((v.via for v in values if v is not None and v.via is not None), None)


def _is_none(value: ast.expr) -> bool:
    return isinstance(value, ast.Constant) and value.value is None and value is not UNKNOWN
