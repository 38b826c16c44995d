"""What a state-dict expression holds, and where a module filters one by hand (PFT2xx).

Reads `ModuleFacts` only, lazily: nothing here runs unless a module has a candidate (a comprehension
with a condition, a `filter(...)` call, a loop with an `if`, a `load_state_dict` or a save call), and
every index is built once per module (`facts.derived`).

Kinds of values:
- MODEL_STATE: a model's `state_dict()` (or `accelerator.get_state_dict(model)`): PEFT's in-memory keys;
- NAMED_PARAMS: `named_parameters()`, pairs of (name, parameter);
- PEFT_STATE: `get_peft_model_state_dict(...)`, `load_peft_weights(...)`: PEFT's checkpoint format;
- ADAPTER_FILE / LOADED_FILE: a checkpoint loaded from `adapter_model.*` / from any other file;
- MANUAL / GRAD: a dict filtered by hand by a PEFT key marker / by `requires_grad` (PFT201 / PFT202).
"""

from __future__ import annotations

import ast
import enum
import re
from dataclasses import dataclass, field
from typing import Iterator, Optional, Union

from .adapter_sites import adapter_name_uses
from .module_facts import UNKNOWN, ModuleFacts, Scope, call_argument, called_name
from .peft_facts import METHODS, METHODS_BY_TYPE

MAX_DEPTH = 8


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


@dataclass(frozen=True)
class Source:
    kind: Kind
    model: Optional[str] = None  # source text of the model, when statically clear at the use
    verbatim: bool = False  # `model` is exactly the source text (ast.unparse keeps it as written)


# ---------------------------------------------------------------------------------------------
# Markers: what a key filter looks for

# Methods whose prefix is distinctive enough to mean PEFT wherever it appears; the others (`road_`,
# `miss_`, `poly_`, `shadow_`, ...) are common words and count only in a module that names the method.
_DISTINCTIVE = frozenset(
    "LORA ADALORA IA3 LOHA LOKR OFT BOFT VERA PVERA FOURIERFT VBLORA RANDLORA DELORA GRALORA TINYLORA "
    "UNILORA SUPERTUNING TRAINABLE_TOKENS".split()
)
# Key markers of LoRA implementations that are not PEFT's (kohya, old diffusers attention processors).
_FOREIGN_LORA = ("lora_down", "lora_up", "lora_unet", "lora_te", "lora_mid", "lora_layer", "lora_linear_layer")
EXTRA_MARKERS = frozenset({"modules_to_save", "vera_A", "vera_B"})
# A bare method prefix: filtering by it keeps the adapter's own parameters (the default adapter's fix).
PREFIX_MARKERS = frozenset(p for m in METHODS for p in (m.prefix, m.prefix.rstrip("_")))
# Libraries with their own LoRA, where filtering `lora_` keys is the documented way.
NON_PEFT_LORA_LIBRARIES = frozenset({"loralib", "minlora", "lora_diffusion", "lora_pytorch"})
ADAPTER_FILE_NAMES = ("adapter_model.safetensors", "adapter_model.bin")
_ADAPTER_CONSTANTS = {
    "peft": {"SAFETENSORS_WEIGHTS_NAME": "adapter_model.safetensors", "WEIGHTS_NAME": "adapter_model.bin"},
    "transformers": {
        "ADAPTER_SAFE_WEIGHTS_NAME": "adapter_model.safetensors",
        "ADAPTER_WEIGHTS_NAME": "adapter_model.bin",
    },
}
_ADAPTER_VARIABLE = re.compile(r"(?:^|_)adapters?(?:_?names?)?$|^active_adapters?$|^adapter_id$", re.IGNORECASE)
_NAMED_PARAM_PARAMETERS = frozenset({"named_params", "named_parameters"})
_NOT_A_MODEL = re.compile(r"optim|sched|scaler", re.IGNORECASE)
_COUNT_OR_LOG = frozenset(
    "len sum print any all min max info debug warning warn error log write set_postfix " "pprint format".split()
)
_TENSOR_PRESERVING = frozenset(
    "detach cpu cuda clone contiguous to half float bfloat16 double type as_subclass requires_grad_".split()
)
_NOT_TENSORS = frozenset("len str repr int bool float id type print isinstance hasattr getattr tuple list".split())
_EDITS = frozenset({"method:pop", "method:update", "method:setdefault", "method:clear", "method:__setitem__"})
_SAVES = frozenset({"save", "save_file", "save_model", "save_torch_state_dict", "save_state_dict"})
_SAVE_FUNCTION = re.compile(r"save|state|checkpoint|ckpt", re.IGNORECASE)
_PRE_FILTER_SAVES = frozenset({"save_pretrained", "_save"})  # hand `state_dict=` on to get_peft_model_state_dict
# Methods of a set or list of key names kept for a check (`missing_keys.remove(key)`), returning no collection.
_KEY_BOOKKEEPING = frozenset(
    "remove discard add append pop clear sort update difference_update intersection_update issubset issuperset "
    "isdisjoint count index extend insert".split()
)


@dataclass(frozen=True)
class Needle:
    """What a key test looks for: a PEFT marker, or an adapter name (`adapter` is its source text)."""

    marker: Optional[str] = None  # the marker text, e.g. "lora_", ".lora_A."
    adapter: Optional[str] = None  # `adapter_name`, `"sft"` (as Python source)

    @property
    def bare_prefix(self) -> bool:
        return self.adapter is None and self.marker is not None and self.marker.strip(".") in PREFIX_MARKERS

    @property
    def modules_to_save(self) -> bool:
        """Looks for the `modules_to_save` copies (maybe of one adapter): the part "lora" filters miss."""
        return "modules_to_save" in (self.marker or "")


@dataclass(frozen=True)
class Test:
    """One key or parameter test inside a filter; `positive` when passing it keeps the entry."""

    kind: str  # "needle" | "grad"
    positive: bool
    node: ast.expr
    needle: Optional[Needle] = None


@dataclass(frozen=True)
class Iteration:
    """How a filter walks its source: the key variable, the value variable, or a (key, value) pair variable."""

    source: Source
    key: Optional[str] = None
    value: Optional[str] = None
    pair: Optional[str] = None


@dataclass
class Filtered:
    """A collection built by filtering a model's parameters: a PFT201 or PFT202 candidate."""

    node: ast.expr  # what is reported (and replaced by a fix)
    scope: Scope
    form: str  # "dict" | "keys" | "pairs" | "loop"
    iteration: Iteration
    tests: list[Test]
    simple: bool = False  # a plain `{k: v ... if <one test>}`: a fix can replace it
    target: Optional[tuple[str, Scope]] = None  # for loops: the dict variable they fill
    escapes: bool = False  # an entry may be kept without any key test (`or not adapters_only`, `or id(v) in S`)

    @property
    def needles(self) -> list[Test]:
        """The positive marker tests; none when the filter is no key filter (it escapes), or when it only
        picks `modules_to_save` copies (what "lora" filters miss; swift's own modules_to_save renaming)."""
        if self.escapes:
            return []
        found = [t for t in self.tests if t.kind == "needle" and t.positive]
        if all(t.needle is not None and t.needle.modules_to_save for t in found):
            return []
        return found

    @property
    def grad(self) -> bool:
        return not self.escapes and any(t.kind == "grad" and t.positive for t in self.tests)


# ---------------------------------------------------------------------------------------------
# Per-module indexes


@dataclass
class _Index:
    calls_by_name: dict[str, list[tuple[ast.Call, Scope]]] = field(default_factory=dict)
    arg_of: dict[int, tuple[ast.Call, Scope, Union[int, str]]] = field(default_factory=dict)
    name_uses: dict[tuple[int, str], list[tuple[ast.Call, Union[int, str]]]] = field(default_factory=dict)
    returns: dict[int, list[ast.Return]] = field(default_factory=dict)  # id(scope) -> returns
    returned: dict[int, Scope] = field(default_factory=dict)  # id(returned expr) -> function scope
    bound: dict[int, tuple[str, Scope]] = field(default_factory=dict)  # id(value) -> (name, scope)
    handles: dict[tuple[int, str], ast.expr] = field(default_factory=dict)  # `with X as name` -> X
    loops_over: dict[tuple[int, str], list[ast.For]] = field(default_factory=dict)  # `for .. in name(.items())`


def _index(facts: ModuleFacts) -> _Index:
    return facts.derived(_build_index)


def _build_index(facts: ModuleFacts) -> _Index:
    index = _Index()
    for call, scope in facts.calls:
        name = called_name(call.func)
        if name:
            index.calls_by_name.setdefault(name, []).append((call, scope))
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            index.name_uses.setdefault((id(scope), func.value.id), []).append((call, "method:" + func.attr))
        slots: list[tuple[ast.expr, Union[int, str]]] = [(arg, position) for position, arg in enumerate(call.args)]
        slots += [(k.value, k.arg) for k in call.keywords if k.arg is not None]
        for arg, slot in slots:
            # `torch.save({"model": sd, "step": step}, path)`: the values of a dict literal go where it goes
            for value in [arg, *(arg.values if isinstance(arg, ast.Dict) else [])]:
                index.arg_of[id(value)] = (call, scope, slot)
                if isinstance(value, ast.Name):
                    index.name_uses.setdefault((id(scope), value.id), []).append((call, slot))
    for ret, scope in facts.returns:
        index.returns.setdefault(id(scope), []).append(ret)
        if ret.value is not None:
            index.returned[id(ret.value)] = scope
    for scope in [facts.module_scope, *facts.scope_of.values()]:
        for name, values in scope.bindings.items():
            for value in values:
                if value is not UNKNOWN:
                    index.bound[id(value)] = (name, scope)
    for item, scope in facts.with_items:
        if isinstance(item.optional_vars, ast.Name):
            index.handles[(id(scope), item.optional_vars.id)] = item.context_expr
    for loop, scope in facts.loops:
        walked = loop.iter
        if isinstance(walked, ast.Call) and isinstance(walked.func, ast.Attribute) and not walked.args:
            walked = walked.func.value
        if isinstance(walked, ast.Name):
            index.loops_over.setdefault((id(scope), walked.id), []).append(loop)
    return index


# ---------------------------------------------------------------------------------------------
# Module-level context


def peft_in_use(facts: ModuleFacts) -> bool:
    """The module builds or loads PEFT models (imports peft, names a PEFT config, or passes adapter names)."""
    return _imports_peft(facts) or bool(facts.config_methods) or bool(adapter_name_uses(facts))


def _imports_peft(facts: ModuleFacts) -> bool:
    return any(origin.split(".")[0] == "peft" for origin in facts.imports.values())


def skipped_module(facts: ModuleFacts) -> bool:
    """Modules where hand-written LoRA state dicts are no PEFT mistake: a vendored copy of PEFT's own
    save/load functions, or a module that uses another LoRA library (loralib, its own LoRA layers)."""
    vendored = bool({"get_peft_model_state_dict", "set_peft_model_state_dict"} & facts.local_defs)
    foreign = not _imports_peft(facts) and (
        any(origin.split(".")[0] in NON_PEFT_LORA_LIBRARIES for origin in facts.imports.values())
        or any("lora" in name.lower() for name in facts.classes)
    )
    return vendored or foreign


def refuses_modules_to_save(facts: ModuleFacts) -> bool:
    """The module raises when a config has `modules_to_save` (`if config.modules_to_save: raise ...`), so a
    pre-filter without them never meets a model that has them. Walks the tree: only asked about a finding."""
    return facts.derived(_refuses_modules_to_save)


def _refuses_modules_to_save(facts: ModuleFacts) -> bool:
    return any(
        isinstance(node, ast.If)
        and _has_modules_to_save(node.test)
        and any(isinstance(statement, ast.Raise) for statement in node.body)
        for node in ast.walk(facts.tree)
    )


def _has_modules_to_save(test: ast.expr) -> bool:
    """`config.modules_to_save`, `config.modules_to_save is not None`, and either inside `or`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return any(_has_modules_to_save(value) for value in test.values)
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.IsNot)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        test = test.left
    return isinstance(test, ast.Attribute) and test.attr == "modules_to_save"


def _accepted_prefixes(facts: ModuleFacts) -> tuple[str, ...]:
    return facts.derived(_build_accepted_prefixes)


def _build_accepted_prefixes(facts: ModuleFacts) -> tuple[str, ...]:
    types = _DISTINCTIVE | facts.config_methods
    prefixes = {METHODS_BY_TYPE[t].prefix for t in types if t in METHODS_BY_TYPE and METHODS_BY_TYPE[t].names_reach_keys}
    return tuple(sorted(prefixes | {"vera_"}))


def _known_adapter_names(facts: ModuleFacts) -> frozenset[str]:
    return facts.derived(_build_known_adapter_names)


def _build_known_adapter_names(facts: ModuleFacts) -> frozenset[str]:
    return frozenset(u.value for u in adapter_name_uses(facts) if u.value)


def _is_marker_token(facts: ModuleFacts, token: str) -> bool:
    if not token or token.startswith(_FOREIGN_LORA):
        return False
    if token in EXTRA_MARKERS:
        return True
    for prefix in _accepted_prefixes(facts):
        if token.startswith(prefix) or token == prefix.rstrip("_"):
            return True
    return False


def _text_needle(facts: ModuleFacts, text: str, regex: bool) -> Optional[Needle]:
    """A statically known needle: a marker, an adapter name used in the module, or neither."""
    if regex:
        for prefix in _accepted_prefixes(facts):
            bare = prefix.rstrip("_")
            if re.search(rf"(?<![A-Za-z0-9]){re.escape(bare)}", text) and not re.search(
                r"lora_(?:down|up|unet|te|mid)", text
            ):
                return Needle(marker=text)
        return None
    tokens = [t for t in text.split(".") if t]
    if any(_is_marker_token(facts, t) for t in tokens):
        return Needle(marker=text)
    names = _known_adapter_names(facts)
    for token in tokens:
        if token in names:
            return Needle(adapter=_quoted(token))
    return None


def _quoted(text: str) -> str:
    return f'"{text}"' if not any(c in text for c in '"\\\n') else repr(text)


def _adapter_like(expr: ast.expr) -> bool:
    if isinstance(expr, ast.Name):
        return bool(_ADAPTER_VARIABLE.search(expr.id))
    if isinstance(expr, ast.Attribute):
        return bool(_ADAPTER_VARIABLE.search(expr.attr))
    return False


def needle_of(facts: ModuleFacts, expr: ast.expr, scope: Scope, regex: bool = False) -> Optional[Needle]:
    """What `expr` looks for in a key, when that is statically clear; None when it is not (never a guess)."""
    if _adapter_like(expr):
        return Needle(adapter=ast.unparse(expr))
    resolved = facts.resolve(expr, scope)
    if resolved is not None:
        return _text_needle(facts, resolved.value, regex)
    parts: list[ast.expr] = []
    if isinstance(expr, ast.JoinedStr):
        if any(isinstance(p, ast.FormattedValue) and (p.conversion != -1 or p.format_spec) for p in expr.values):
            return None
        parts = [p.value if isinstance(p, ast.FormattedValue) else p for p in expr.values]
    elif isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        parts = [expr.left, expr.right]
    adapter = next((part for part in parts if _adapter_like(part)), None)
    marker = None
    for part in parts:
        known = facts.resolve(part, scope) if part is not adapter else None
        if known is not None:
            found = _text_needle(facts, known.value, regex)
            if found is not None and found.marker is not None:
                marker = known.value
                break
    if adapter is not None:  # `f"modules_to_save.{adapter_name}"` keeps its marker too
        return Needle(marker=marker, adapter=ast.unparse(adapter))
    return Needle(marker=marker) if marker is not None else None


# ---------------------------------------------------------------------------------------------
# Sources


def verbatim(node: ast.AST) -> bool:
    """`ast.unparse` gives the source back as written: one line, no string literal (whose quotes it may change)."""
    if getattr(node, "lineno", None) != getattr(node, "end_lineno", None):
        return False
    return not any(
        isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Constant) and isinstance(n.value, (str, bytes)))
        for n in ast.walk(node)
    )


def _model_source(kind: Kind, receiver: ast.expr) -> Source:
    if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super":
        return Source(kind)  # `super().state_dict()` in a state_dict override: no model to hand to peft
    return Source(kind, ast.unparse(receiver), verbatim(receiver))


class Sources:
    """Classifies expressions of one module (memoised per expression and scope)."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self._memo: dict[tuple[int, int], Optional[Source]] = {}
        self._filtered: Optional[dict[int, Filtered]] = None
        self._loop_targets: dict[tuple[int, str], Filtered] = {}

    @property
    def index(self) -> _Index:
        return _index(self.facts)

    @classmethod
    def of(cls, facts: ModuleFacts) -> Sources:
        return facts.derived(cls)

    # -- what a value is ------------------------------------------------------------------------

    def classify(self, expr: ast.expr, scope: Scope, depth: int = 0) -> Optional[Source]:
        if depth > MAX_DEPTH:
            return None
        key = (id(expr), id(scope))
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = None  # a cycle resolves to "unknown"
        result = self._classify(expr, scope, depth)
        self._memo[key] = result
        return result

    def _classify(self, expr: ast.expr, scope: Scope, depth: int) -> Optional[Source]:
        filtered = self.filtered().get(id(expr)) if isinstance(expr, (ast.DictComp, ast.Call)) else None
        if filtered is not None:
            return _filtered_source(filtered)
        if isinstance(expr, ast.Call):
            return self._call(expr, scope, depth)
        if isinstance(expr, ast.Name):
            return self._name(expr.id, scope, depth)
        if isinstance(expr, ast.DictComp):
            return self._built(expr, scope, depth)
        return None

    def _call(self, call: ast.Call, scope: Scope, depth: int) -> Optional[Source]:
        func = call.func
        name = called_name(func)
        if name is None:
            return None
        if isinstance(func, ast.Attribute):
            receiver = func.value
            if name == "state_dict":
                if _NOT_A_MODEL.search(ast.unparse(receiver)):
                    return None
                return _model_source(Kind.MODEL_STATE, receiver)
            if name == "named_parameters":
                return _model_source(Kind.NAMED_PARAMS, receiver)
            if name == "get_state_dict" and call.args:  # accelerate's Accelerator.get_state_dict(model)
                return _model_source(Kind.MODEL_STATE, call.args[0])
            if name == "_zero3_consolidated_16bit_state_dict":
                return Source(Kind.MODEL_STATE)
            if name == "get_adapter_state_dict":
                return Source(Kind.PEFT_STATE)
        if name in ("get_peft_model_state_dict", "load_peft_weights"):
            return Source(Kind.PEFT_STATE)
        if name in ("dict", "OrderedDict") and len(call.args) == 1 and not call.keywords:
            inner = self._iterable(call.args[0], scope, depth)
            if inner is not None and inner.kind is Kind.NAMED_PARAMS:
                return Source(Kind.MODEL_STATE, inner.model, inner.verbatim)
            if isinstance(call.args[0], ast.GeneratorExp):
                return self._built(call.args[0], scope, depth)
            return inner
        if name in ("list", "tuple", "sorted") and len(call.args) == 1:
            inner = self.classify(call.args[0], scope, depth + 1)
            return inner if inner is not None and inner.kind is Kind.NAMED_PARAMS else None
        if self._is_loader(call, name):
            path = call_argument(call, 0, "filename", "f", "path")
            if path is None:
                return Source(Kind.LOADED_FILE)
            return Source(Kind.ADAPTER_FILE if self.adapter_file(path, scope) else Kind.LOADED_FILE)
        if isinstance(func, ast.Name) and name in self.facts.local_defs:
            return self._helper_result(name, depth)
        return None

    def _is_loader(self, call: ast.Call, name: str) -> bool:
        if name == "load_file":
            return True
        origin = self.facts.origin(call.func)
        return origin in ("torch.load", "safetensors.torch.load", "safetensors.torch.load_file")

    def _helper_result(self, name: str, depth: int) -> Optional[Source]:
        """What a function defined in this module returns, when every return agrees."""
        for function, _ in self.facts.functions:
            if getattr(function, "name", None) != name:
                continue
            inner = self.facts.scope_of.get(id(function))
            returns = self.index.returns.get(id(inner), []) if inner is not None else []
            found = {
                self.classify(r.value, inner, depth + 1)  # type: ignore[arg-type]
                for r in returns
                if r.value is not None
            }
            kinds = {s.kind for s in found if s is not None}
            if len(kinds) == 1 and None not in found:
                return Source(kinds.pop())
            return None
        return None

    def _iterable(self, expr: ast.expr, scope: Scope, depth: int) -> Optional[Source]:
        """`X.items()` -> what X is; anything else -> what it is."""
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "items"
            and not expr.args
        ):
            return self.classify(expr.func.value, scope, depth + 1)
        return self.classify(expr, scope, depth + 1)

    def _name(self, name: str, scope: Scope, depth: int) -> Optional[Source]:
        if name in self.facts.imports:
            return None
        current: Optional[Scope] = scope
        while current is not None:
            if name in current.params:
                if name in _NAMED_PARAM_PARAMETERS:
                    return Source(Kind.NAMED_PARAMS)
                if name in current.bindings:  # `if state_dict is None: state_dict = model.state_dict()`
                    found = self._agree(current.bindings[name], current, depth)
                    passed = self._passed(name, current, depth)
                    if found is not None and found.kind in MODEL_KINDS and passed <= {found.kind}:
                        return Source(found.kind)
                    return None
                return self._parameter(name, current, depth)
            if name in current.bindings:
                filled = self.filtered() and self._loop_targets.get((id(current), name))
                if filled:
                    return _filtered_source(filled)
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
        uses = self.index.name_uses.get((id(scope), name), [])
        return any(slot in _EDITS for _, slot in uses)

    def _agree(self, values: list[ast.expr], scope: Scope, depth: int) -> Optional[Source]:
        found = [self.classify(v, scope, depth + 1) if v is not UNKNOWN else None for v in values]
        if not found or any(f is None for f in found):
            return None
        kinds = {f.kind for f in found}  # type: ignore[union-attr]
        if len(kinds) != 1:
            return None
        models = {(f.model, f.verbatim) for f in found}  # type: ignore[union-attr]
        model, exact = models.pop() if len(models) == 1 else (None, False)
        return Source(kinds.pop(), model, exact)

    def _parameter(self, name: str, scope: Scope, depth: int) -> Optional[Source]:
        """A function parameter other than `named_params`: what callers in this module pass it."""
        kinds = self._passed(name, scope, depth)
        if kinds & FILE_KINDS or len(kinds) != 1:
            return None
        kind = kinds.pop()
        return Source(kind) if kind in MODEL_KINDS else None

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

    def _built(self, comp: Union[ast.DictComp, ast.GeneratorExp], scope: Scope, depth: int) -> Optional[Source]:
        """A dict built by a comprehension: filtered by hand, or a copy of its source."""
        if len(comp.generators) != 1:
            return None
        generator = comp.generators[0]
        iteration = self.iteration(generator.target, generator.iter, scope, depth)
        if iteration is None:
            handle = self._handle_keys(generator.iter, scope)
            if handle is not None and not generator.ifs:
                return handle
            return None
        source = iteration.source
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
        if generator.ifs:
            return None
        if source.kind in MODEL_KINDS:
            return Source(Kind.MODEL_STATE, source.model, source.verbatim)
        return source if plain_key else None

    def _handle_keys(self, iterable: ast.expr, scope: Scope) -> Optional[Source]:
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
        adapter = path is not None and self.adapter_file(path, scope)
        return Source(Kind.ADAPTER_FILE if adapter else Kind.LOADED_FILE)

    # -- adapter checkpoint paths -----------------------------------------------------------------

    def adapter_file(self, expr: ast.expr, scope: Scope, depth: int = 0) -> Optional[str]:
        """`adapter_model.safetensors` or `adapter_model.bin` when `expr` is a path to one."""
        if depth > MAX_DEPTH:
            return None
        resolved = self.facts.resolve(expr, scope)
        if resolved is not None:
            return _adapter_file_name(resolved.value)
        origin = self.facts.origin(expr) if isinstance(expr, (ast.Name, ast.Attribute)) else None
        if origin is not None:
            library, last = origin.split(".")[0], origin.rsplit(".", 1)[-1]
            return _ADAPTER_CONSTANTS.get(library, {}).get(last)
        if isinstance(expr, ast.JoinedStr) and expr.values:
            last_part = expr.values[-1]
            if isinstance(last_part, ast.Constant) and isinstance(last_part.value, str):
                return _adapter_file_name(last_part.value)
            if isinstance(last_part, ast.FormattedValue):
                return self.adapter_file(last_part.value, scope, depth + 1)
            return None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Div)):
            return self.adapter_file(expr.right, scope, depth + 1)
        if isinstance(expr, ast.Call) and called_name(expr.func) in ("join", "joinpath") and expr.args:
            return self.adapter_file(expr.args[-1], scope, depth + 1)
        if isinstance(expr, ast.Call) and called_name(expr.func) in ("Path", "PurePath", "str", "fspath") and expr.args:
            return self.adapter_file(expr.args[0], scope, depth + 1)
        if isinstance(expr, ast.Name):
            found = self.facts._lookup(expr.id, scope)
            if found is not None and len(found[0]) == 1 and found[0][0][0] is not UNKNOWN:
                value, value_scope = found[0][0]
                return self.adapter_file(value, value_scope, depth + 1)
        return None

    # -- filters ----------------------------------------------------------------------------------

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
            if inner.func.attr == "items":
                items, inner = True, inner.func.value
            elif inner.func.attr == "keys":
                inner = inner.func.value
        source = self.classify(inner, scope, depth + 1)
        if source is None:
            return None
        pairs = items or source.kind is Kind.NAMED_PARAMS
        if pairs:
            if isinstance(target, ast.Tuple) and len(target.elts) == 2:
                key, value = target.elts
                return Iteration(
                    source,
                    key=key.id if isinstance(key, ast.Name) else None,
                    value=value.id if isinstance(value, ast.Name) else None,
                )
            if isinstance(target, ast.Name):
                return Iteration(source, pair=target.id)
            return None
        if isinstance(target, ast.Name):
            return Iteration(source, key=target.id)
        return None

    def tests(self, condition: ast.expr, iteration: Iteration, scope: Scope, negated: bool = False) -> list[Test]:
        """The key and requires_grad tests in a filter condition, with their polarity."""
        if isinstance(condition, ast.BoolOp):
            return [t for value in condition.values for t in self.tests(value, iteration, scope, negated)]
        if isinstance(condition, ast.UnaryOp) and isinstance(condition.op, ast.Not):
            return self.tests(condition.operand, iteration, scope, not negated)
        found = self._test(condition, iteration, scope)
        if found is None:
            return []
        kind, positive, needle = found
        return [Test(kind, positive != negated, condition, needle)]

    def _test(self, node: ast.expr, it: Iteration, scope: Scope) -> Optional[tuple[str, bool, Optional[Needle]]]:
        if _is_value(node, it, "requires_grad"):
            return ("grad", True, None)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self._compare(node.left, node.ops[0], node.comparators[0], it, scope)
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("startswith", "endswith") and _is_key(func.value, it):
            if len(node.args) != 1:
                return None
            needles = node.args[0].elts if isinstance(node.args[0], ast.Tuple) else [node.args[0]]
            return self._any_needle(needles, scope, regex=False)
        name = called_name(func)
        if name in ("search", "match", "fullmatch") and len(node.args) >= 1:
            origin = self.facts.origin(func)
            if origin in ("re.search", "re.match", "re.fullmatch", "regex.search", "regex.match", "regex.fullmatch"):
                if len(node.args) >= 2 and _is_key(node.args[1], it):
                    return self._any_needle([node.args[0]], scope, regex=True)
                return None
            if isinstance(func, ast.Attribute) and _is_key(node.args[0], it):
                pattern = self._compiled(func.value, scope)
                return self._any_needle([pattern], scope, regex=True) if pattern is not None else None
            return None
        if name == "any" and isinstance(func, ast.Name) and len(node.args) == 1:
            return self._any_of(node.args[0], it, scope)
        return None

    def _compare(self, left, op, right, it: Iteration, scope: Scope):
        if isinstance(op, (ast.In, ast.NotIn)):
            if _is_key(right, it) or _is_split_key(right, it):
                needle = needle_of(self.facts, left, scope)
                return ("needle", isinstance(op, ast.In), needle) if needle else None
            if _is_key(left, it) and self._trainable_names(right, scope):
                return ("grad", isinstance(op, ast.In), None)
            return None
        if isinstance(op, (ast.Is, ast.Eq, ast.IsNot, ast.NotEq)) and _is_value(left, it, "requires_grad"):
            if isinstance(right, ast.Constant) and isinstance(right.value, bool):
                return ("grad", right.value == isinstance(op, (ast.Is, ast.Eq)), None)
            return None
        if isinstance(op, (ast.Eq, ast.NotEq)):
            for part, other in ((left, right), (right, left)):
                if isinstance(part, ast.Subscript) and _is_split_key(part.value, it):
                    needle = needle_of(self.facts, other, scope)
                    return ("needle", isinstance(op, ast.Eq), needle) if needle else None
        finder = left
        if (
            isinstance(finder, ast.Call)
            and isinstance(finder.func, ast.Attribute)
            and finder.func.attr in ("find", "rfind")
            and _is_key(finder.func.value, it)
            and len(finder.args) == 1
            and isinstance(right, (ast.Constant, ast.UnaryOp))
        ):
            bound = _int_value(right)
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
            needle = needle_of(self.facts, finder.args[0], scope)
            return ("needle", positive, needle) if needle else None
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
        iteration = self.iteration(generator.target, generator.iter, scope)
        if iteration is None or iteration.source.kind is not Kind.NAMED_PARAMS or expr.elt.id != iteration.key:
            return False
        tests = [t for condition in generator.ifs for t in self.tests(condition, iteration, scope)]
        return any(t.kind == "grad" and t.positive for t in tests) and not any(not t.positive for t in tests)

    def _any_needle(self, needles: list[ast.expr], scope: Scope, regex: bool):
        for expr in needles:
            needle = needle_of(self.facts, expr, scope, regex=regex)
            if needle is not None:
                return ("needle", True, needle)
        return None

    def _any_of(self, arg: ast.expr, it: Iteration, scope: Scope):
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
            and _is_key(element.comparators[0], it)
        ) or (
            isinstance(element, ast.Call)
            and isinstance(element.func, ast.Attribute)
            and element.func.attr in ("startswith", "endswith")
            and _is_key(element.func.value, it)
            and len(element.args) == 1
            and isinstance(element.args[0], ast.Name)
            and element.args[0].id == var
        )
        if not uses_var:
            return None
        for item, _ in self.facts.resolve_many(generator.iter, scope):
            needle = needle_of(self.facts, item, scope)
            if needle is not None:
                return ("needle", True, needle)
        return None

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

    # -- every filtered collection of the module ----------------------------------------------------

    def filtered(self) -> dict[int, Filtered]:
        """Every collection built by filtering a model's parameters, by id of its comprehension."""
        if self._filtered is None:
            self._filtered = {}
            found = list(self._comprehensions()) + list(self._filter_calls()) + list(self._loops())
            for item in found:
                self._filtered[id(item.node)] = item
                if item.target is not None and (item.needles or item.grad):
                    self._loop_targets[(id(item.target[1]), item.target[0])] = item
            self._memo.clear()  # what was classified while this was being built saw it incomplete
        return self._filtered

    def _comprehensions(self) -> Iterator[Filtered]:
        for comp, scope in self.facts.comprehensions:
            generators = getattr(comp, "generators", [])
            if len(generators) != 1 or not generators[0].ifs:
                continue
            generator = generators[0]
            if not self._might_filter(generator.target, generator.ifs, scope):
                continue
            iteration = self.iteration(generator.target, generator.iter, scope)
            if iteration is None or iteration.source.kind not in MODEL_KINDS:
                continue
            tests = [t for condition in generator.ifs for t in self.tests(condition, iteration, scope)]
            if not tests:
                continue
            node: ast.expr = comp
            if isinstance(comp, ast.DictComp):
                if not self._keeps_values(comp.value, iteration, scope):
                    continue  # `{name: mask ...}`: not the parameters themselves
                form = "dict"
                simple = _plain(comp.key, iteration, "key") and _plain(comp.value, iteration, "value")
            else:
                element = getattr(comp, "elt")
                form = _element_form(element, iteration)
                simple = form == "pairs" and _plain_pair(element, iteration)
                if isinstance(comp, ast.GeneratorExp):
                    consumer = self.index.arg_of.get(id(comp))
                    if consumer is None or consumer[2] != 0 or len(consumer[0].args) != 1:
                        continue
                    consumer_name = called_name(consumer[0].func)
                    if consumer_name in ("dict", "OrderedDict"):
                        form, node = "dict", consumer[0]
                    elif consumer_name in ("list", "set", "tuple", "sorted", "frozenset") and form:
                        node = consumer[0]
                    else:
                        continue
                if not form:
                    continue
            simple = simple and len(generator.ifs) == 1 and len(tests) == 1 and tests[0].node is generator.ifs[0]
            escapes = self._escapes(generator.ifs, True, iteration, scope)
            yield Filtered(node, scope, form, iteration, tests, simple=simple and form == "dict", escapes=escapes)

    def _filter_calls(self) -> Iterator[Filtered]:
        if "filter" in self.facts.local_defs:
            return
        for call, scope in self.facts.calls:
            if not isinstance(call.func, ast.Name) or call.func.id != "filter" or len(call.args) != 2:
                continue
            function, iterable = call.args
            if not isinstance(function, ast.Lambda) or len(function.args.args) != 1:
                continue
            param = ast.Name(id=function.args.args[0].arg, ctx=ast.Store())
            if not self._might_filter(param, [function.body], self.facts.scope_of.get(id(function), scope)):
                continue
            iteration = self.iteration(param, iterable, scope)
            if iteration is None or iteration.source.kind not in MODEL_KINDS:
                continue
            inner = self.facts.scope_of.get(id(function), scope)
            tests = self.tests(function.body, iteration, inner)
            if not tests:
                continue
            node: ast.expr = call
            form = "pairs" if iteration.pair else "keys"
            consumer = self.index.arg_of.get(id(call))
            if consumer is not None and consumer[2] == 0 and len(consumer[0].args) == 1:
                name = called_name(consumer[0].func)
                if name in ("dict", "OrderedDict"):
                    form, node = "dict", consumer[0]
                elif name in ("list", "set", "tuple", "sorted"):
                    node = consumer[0]
            simple = (
                form == "dict" and iteration.pair is not None and len(tests) == 1 and tests[0].node is function.body
            )
            escapes = self._escapes([function.body], True, iteration, inner)
            yield Filtered(node, scope, form, iteration, tests, simple=simple, escapes=escapes)

    def _loops(self) -> Iterator[Filtered]:
        for loop, scope in self.facts.loops:
            conditions = [s.test for s in _ifs(loop.body)]
            if not conditions or not self._might_filter(loop.target, conditions, scope):
                continue
            iteration = self.iteration(loop.target, loop.iter, scope)
            if iteration is None or iteration.source.kind not in MODEL_KINDS or iteration.key is None:
                continue
            yield from self._loop_body(loop.body, iteration, scope)

    def _might_filter(self, target: ast.expr, conditions: list[ast.expr], scope: Scope) -> bool:
        """A cheap first look, before the source is classified: does any condition test the key or
        `requires_grad` of what the target names?"""
        if isinstance(target, ast.Tuple) and len(target.elts) == 2:
            key, value = target.elts
            names = {"key": getattr(key, "id", None), "value": getattr(value, "id", None)}
        elif isinstance(target, ast.Name):
            names = {"key": target.id, "pair": target.id}
        else:
            return False
        provisional = Iteration(Source(Kind.MODEL_STATE), **names)
        return any(self.tests(condition, provisional, scope) for condition in conditions)

    def _loop_body(self, body: list[ast.stmt], iteration: Iteration, scope: Scope) -> Iterator[Filtered]:
        guard: Optional[list[Test]] = None  # `if "lora" not in k: continue` guards what follows
        guard_node: Optional[ast.expr] = None
        guard_escapes = False
        for statement in body:
            if isinstance(statement, ast.If):
                tests = self.tests(statement.test, iteration, scope)
                if (
                    tests
                    and len(statement.body) == 1
                    and isinstance(statement.body[0], ast.Continue)
                    and not statement.orelse
                ):
                    flipped = [Test(t.kind, not t.positive, t.node, t.needle) for t in tests]
                    guard, guard_node = flipped, statement.test
                    guard_escapes = self._escapes([statement.test], False, iteration, scope)  # kept when it fails
                    continue
                if tests:
                    target = self._fills_dict(statement.body, iteration, scope)
                    if target is not None:
                        escapes = self._escapes([statement.test], True, iteration, scope)
                        yield Filtered(
                            statement.test, scope, "loop", iteration, tests, target=(target, scope), escapes=escapes
                        )
                if statement.orelse:
                    yield from self._loop_body(statement.orelse, iteration, scope)
            elif guard is not None and guard_node is not None:
                target = self._fills_dict([statement], iteration, scope)
                if target is not None:
                    yield Filtered(
                        guard_node, scope, "loop", iteration, guard, target=(target, scope), escapes=guard_escapes
                    )
                    guard = None

    def _escapes(self, conditions: list[ast.expr], want: bool, it: Iteration, scope: Scope) -> bool:
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
        return not (_mentions_key(node, it) or self._test(node, it, scope) is not None)

    def _keeps_values(
        self, expr: ast.expr, it: Iteration, scope: Scope, depth: int = 0, copied: Optional[str] = None
    ) -> bool:
        """The kept value is the parameter or tensor itself, maybe moved, cast or gathered (`v.cpu()`,
        `maybe_zero_3(v)`, `sd[k]` of a model's dict); not something computed from it (`p.grad`, `p.shape`)."""
        if depth > MAX_DEPTH:
            return False
        if isinstance(expr, ast.Name):
            return expr.id in (it.value, it.pair) and expr.id is not None
        if isinstance(expr, ast.Attribute):
            return expr.attr == "data" and self._keeps_values(expr.value, it, scope, depth + 1, copied)
        if isinstance(expr, ast.IfExp):
            return self._keeps_values(expr.body, it, scope, depth + 1, copied) or self._keeps_values(
                expr.orelse, it, scope, depth + 1, copied
            )
        if isinstance(expr, ast.Subscript):
            if _is_key(expr.slice, it):  # type: ignore[arg-type]
                if copied is not None and isinstance(expr.value, ast.Name) and expr.value.id == copied:
                    return True
                found = self.classify(expr.value, scope)
                return found is not None and found.kind in MODEL_KINDS
            return _is_pair_item(expr, it, 1)
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Attribute):
                return func.attr in _TENSOR_PRESERVING and self._keeps_values(func.value, it, scope, depth + 1, copied)
            if isinstance(func, ast.Name) and func.id not in _NOT_TENSORS and expr.args:
                return self._keeps_values(expr.args[0], it, scope, depth + 1, copied)  # maybe_zero_3(v), gather(v)
        return False

    def _fills_dict(
        self, body: list[ast.stmt], it: Iteration, scope: Scope, copied: Optional[str] = None
    ) -> Optional[str]:
        """`D[<key expression>] = <the parameter>` in a block (not in nested loops or functions): the name D.
        `copied`: the dict walked by key, whose `copied[k]` is a value too."""
        for statement in body:
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and any(isinstance(n, ast.Name) and n.id == it.key for n in ast.walk(target.slice))
                        and self._keeps_values(statement.value, it, scope, copied=copied)
                    ):
                        return target.value.id
            elif isinstance(statement, ast.If):
                found = self._fills_dict(statement.body, it, scope, copied)
                if found is not None:
                    return found
        return None

    # -- where a collection goes ----------------------------------------------------------------------

    def flows(self, node: ast.AST, scope: Scope, variable: Optional[tuple[str, Scope]] = None, depth: int = 0) -> Flows:
        flows = Flows()
        consumer = self.index.arg_of.get(id(node))
        if consumer is not None:
            flows.add(consumer[0], consumer[2], consumer[1])
        if id(node) in self.index.returned:
            flows.returned_from.append(self.index.returned[id(node)])
        variable = variable or self.index.bound.get(id(node))
        if variable is None:
            return flows
        name, bound_scope = variable
        start = _position(node)
        end = self._rebound(name, bound_scope, start)  # uses after this see another value
        if depth < 2:  # `for k, v in d.items(): copy[k] = v.cpu()` (an FSDP gather): where the copy goes
            for loop in self.index.loops_over.get((id(bound_scope), name), []):
                if _position(loop) <= start or (end is not None and _position(loop) >= end):
                    continue
                copy = self._copy_target(loop, name, bound_scope)
                if copy is not None and copy != name:
                    flows.merge(self.flows(loop, bound_scope, (copy, bound_scope), depth + 1))
                elif copy is None:
                    flows.loops.append(loop)
        looped = {id(loop.iter) for loop in flows.loops}  # `for k, v in d.items()`: the loop stands for `.items()`
        for call, slot in self.index.name_uses.get((id(bound_scope), name), []):
            if end is not None and _position(call) >= end:
                continue
            if isinstance(slot, str) and slot.startswith("method:"):
                if id(call) not in looped:
                    flows.methods.add(slot.partition(":")[2])
            else:
                flows.add(call, slot, bound_scope)
        for ret in self.index.returns.get(id(bound_scope), []):
            if isinstance(ret.value, ast.Name) and ret.value.id == name and (end is None or _position(ret) < end):
                flows.returned_from.append(bound_scope)
        return flows

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
            generators = getattr(comp, "generators", None)
            if not generators or not isinstance(comp, (ast.DictComp, ast.ListComp, ast.SetComp, ast.GeneratorExp)):
                continue
            target = generators[0].target
            key = target.elts[0] if isinstance(target, ast.Tuple) and target.elts else target
            if not isinstance(key, ast.Name):
                continue
            it = Iteration(Source(Kind.MANUAL), key=key.id)
            if any(self._own_key_test(c, True, it, scope) for g in generators for c in g.ifs):
                return True
        return False

    def _own_key_test(self, node: ast.expr, positive: bool, it: Iteration, scope: Scope) -> bool:
        if isinstance(node, ast.BoolOp):
            return any(self._own_key_test(v, positive, it, scope) for v in node.values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self._own_key_test(node.operand, not positive, it, scope)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.NotIn, ast.NotEq)):
            positive = not positive  # `"vision" not in k` leaves entries out
        return positive and _mentions_key(node, it) and self._test(node, it, scope) is None

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
            iteration = Iteration(Source(Kind.MANUAL), key=key.id, value=value.id)
        elif not items and isinstance(target, ast.Name):
            iteration = Iteration(Source(Kind.MANUAL), key=target.id)
        else:
            return None
        if any(isinstance(s, ast.If) and _mentions_key(s.test, iteration) for s in loop.body):
            return None  # filtered again
        return self._fills_dict(loop.body, iteration, scope, copied=name)

    def loaded_for_inference(self, model: ast.expr, scope: Scope) -> bool:
        """`model` is `PeftModel.from_pretrained(...)` (or an AutoPeftModel's) without `is_trainable=True`:
        nothing in it requires grad."""
        if isinstance(model, ast.Name):
            found = self.facts._lookup(model.id, scope)
            if found is None or len(found[0]) != 1:
                return False
            model = found[0][0][0]
        if not (
            isinstance(model, ast.Call)
            and isinstance(model.func, ast.Attribute)
            and model.func.attr == "from_pretrained"
            and len(model.args) <= 3  # (model, model_id, adapter_name): is_trainable is the 4th
        ):
            return False
        owner = called_name(model.func.value)
        if owner is None or not owner.startswith(("PeftModel", "AutoPeftModel")):
            return False
        for keyword in model.keywords:
            if keyword.arg is None:  # **kwargs may hold is_trainable=True
                return False
            if keyword.arg == "is_trainable" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is False
            ):
                return False
        return True

    def callers_flows(self, function_scope: Scope) -> list[Flows]:
        """Where the results of calls of a function defined here go."""
        function = function_scope.node
        name = getattr(function, "name", None)
        if name is None:
            return []
        return [self.flows(call, scope) for call, scope in self.index.calls_by_name.get(name, [])]


@dataclass
class Flows:
    calls: list[tuple[ast.Call, Union[int, str]]] = field(default_factory=list)  # (call, argument slot)
    returned_from: list[Scope] = field(default_factory=list)
    methods: set[str] = field(default_factory=set)  # `var.values()`, ...
    pretrained: list[tuple[ast.Call, Scope]] = field(default_factory=list)  # `X.save_pretrained(state_dict=it)`
    loops: list[ast.For] = field(default_factory=list)  # loops over it that copy it nowhere

    def add(self, call: ast.Call, slot: Union[int, str], scope: Scope) -> None:
        self.calls.append((call, slot))
        if slot == "state_dict" and called_name(call.func) in _PRE_FILTER_SAVES:
            self.pretrained.append((call, scope))

    def merge(self, other: Flows) -> None:
        self.calls += other.calls
        self.returned_from += other.returned_from
        self.methods |= other.methods
        self.pretrained += other.pretrained
        self.loops += other.loops

    def into_peft(self) -> bool:
        """Handed to `get_peft_model_state_dict(model, state_dict=...)` (or transformers' equivalent)."""
        for call, slot in self.calls:
            name = called_name(call.func)
            if name in ("get_peft_model_state_dict", "get_adapter_state_dict") and slot in (1, "state_dict"):
                return True
        return False

    def into_save_pretrained(self) -> bool:
        """Handed to `model.save_pretrained(..., state_dict=...)` (or `Trainer._save`), which passes it on to
        get_peft_model_state_dict."""
        return any(
            called_name(call.func) in ("save_pretrained", "_save") and slot == "state_dict" for call, slot in self.calls
        )

    def saved(self, pre_filters: bool = True) -> bool:
        """Written to a file, or returned from a function whose name says it saves or builds a state dict;
        without `pre_filters`, handing it to `save_pretrained(state_dict=...)` does not count."""
        for call, slot in self.calls:
            name = called_name(call.func)
            if name in _SAVES and slot in (0, "obj", "tensors", "state_dict"):
                return True
            if name == "save_model" and slot == "state_dict":
                return True
            if pre_filters and name in _PRE_FILTER_SAVES and slot == "state_dict":
                return True
        return any(_SAVE_FUNCTION.search(getattr(s.node, "name", "")) for s in self.returned_from)

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


def _ifs(body: list[ast.stmt]) -> Iterator[ast.If]:
    """The `if` statements of a block and their `elif`/`else` branches (not nested loops or bodies)."""
    for statement in body:
        if isinstance(statement, ast.If):
            yield statement
            yield from _ifs(statement.orelse)


def _filtered_source(filtered: Filtered) -> Optional[Source]:
    if filtered.form not in ("dict", "loop"):
        return None
    source = filtered.iteration.source
    if filtered.needles:
        return Source(Kind.MANUAL, source.model, source.verbatim)
    if filtered.grad:
        return Source(Kind.GRAD, source.model, source.verbatim)
    return None


def _adapter_file_name(text: str) -> Optional[str]:
    for name in ADAPTER_FILE_NAMES:
        if text == name or text.endswith(("/" + name, "\\" + name)):
            return name
    return None


def _int_value(node: ast.expr) -> Optional[int]:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int_value(node.operand)
        return -inner if inner is not None else None
    return None


def _is_key(expr: ast.expr, it: Iteration) -> bool:
    if isinstance(expr, ast.Name):
        return expr.id == it.key
    if isinstance(expr, ast.Subscript):
        return _is_pair_item(expr, it, 0)
    if isinstance(expr, ast.Call) and not expr.args:
        func = expr.func
        return (
            isinstance(func, ast.Attribute) and func.attr in ("lower", "casefold", "strip") and _is_key(func.value, it)
        )
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "str" and len(expr.args) == 1:
        return _is_key(expr.args[0], it)
    return False


def _mentions_key(node: ast.expr, it: Iteration) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and it.key is not None and inner.id == it.key:
            return True
        if isinstance(inner, ast.Subscript) and _is_pair_item(inner, it, 0):
            return True
    return False


def _is_split_key(expr: ast.expr, it: Iteration) -> bool:
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in ("split", "rsplit")
        and _is_key(expr.func.value, it)
    )


def _is_value(expr: ast.expr, it: Iteration, attr: str) -> bool:
    if not (isinstance(expr, ast.Attribute) and expr.attr == attr):
        return False
    owner = expr.value
    if isinstance(owner, ast.Name):
        return owner.id == it.value
    return _is_pair_item(owner, it, 1)


def _is_pair_item(expr: ast.expr, it: Iteration, index: int) -> bool:
    """`pair[0]` (the key) or `pair[1]` (the value) of a `(key, value)` pair variable."""
    return (
        isinstance(expr, ast.Subscript)
        and isinstance(expr.value, ast.Name)
        and expr.value.id == it.pair
        and _int_value(expr.slice) == index  # type: ignore[arg-type]
    )


def _plain(expr: ast.expr, it: Iteration, role: str) -> bool:
    """The key itself, or the value itself (possibly `.detach()`, `.cpu()`, `.clone()`, `.contiguous()`)."""
    name = it.key if role == "key" else it.value
    while role == "value" and isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and not expr.args:
        if expr.func.attr not in ("detach", "cpu", "clone", "contiguous"):
            return False
        expr = expr.func.value
    return isinstance(expr, ast.Name) and expr.id == name


def _plain_pair(element: ast.expr, it: Iteration) -> bool:
    if isinstance(element, ast.Name):
        return element.id == it.pair
    return (
        isinstance(element, ast.Tuple)
        and len(element.elts) == 2
        and _plain(element.elts[0], it, "key")
        and _plain(element.elts[1], it, "value")
    )


def _element_form(element: ast.expr, it: Iteration) -> str:
    """A list of keys, a list of (key, value) pairs, or neither (values only: optimizer groups, counts)."""
    if _is_key(element, it):
        return "keys"
    if isinstance(element, ast.Name) and element.id == it.pair:
        return "pairs"
    if isinstance(element, ast.Tuple) and len(element.elts) == 2 and _is_key(element.elts[0], it):
        return "pairs"
    return ""
