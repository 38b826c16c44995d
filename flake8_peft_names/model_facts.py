"""Facts about each PEFT model object of a module: which adapter names it holds over time, the configs it
was built with, and whether it is saved (or leaves the code the rules can see) while those names coexist.

Built from `module_facts`' single pass and `adapter_sites`' name uses; no tree walk of its own. Only modules
with adapter-name uses pay for it. A model is identified by the variable (or `self.` attribute) holding it,
in the scope that binds it, and by the creating call of that binding when the variable is rebound
(`model = get_peft_model(...)` twice in one function is two models). Aliases are followed: `m = model`,
`m = model.module`, `m = accelerator.unwrap_model(model)`.

What is not known is said so (`None`): a config loaded from disk (`from_pretrained`, `load_adapter`) or built
where the code cannot be read. Rules then fall back to the file-wide facts of `module_facts`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Optional, Union

from .adapter_sites import NameUse, adapter_name_uses
from .module_facts import UNKNOWN, ModuleFacts, Scope, call_argument, called_name
from .peft_facts import METHODS_BY_CONFIG, PEFT_MODEL_CLASSES, TASKS_WITH_MODULES_TO_SAVE, Method

Position = tuple[int, int]
ModelKey = Hashable

# Calls that make a new PEFT model value (their result is a model).
_CREATORS = frozenset({"get_peft_model", *PEFT_MODEL_CLASSES})
# Methods whose call on a model saves it, or hands its adapters' tensors on.
_SAVES = frozenset(
    "save_pretrained push_to_hub state_dict save_lora_adapter save_lora_weights save_model".split()
)
# Functions that take a model and save it or read its adapters' tensors.
_SAVING_FUNCTIONS = frozenset({"get_peft_model_state_dict", "get_adapter_state_dict", "save_model", "save"})
# Calls a model is passed to that keep it here: they neither save it nor keep it.
_INERT = frozenset(
    "print len isinstance type id str repr hasattr getattr callable issubclass vars dir format assertIsInstance "
    "assertIs assertIsNot assertEqual assertTrue assertFalse assert_close".split()
)
# Attributes and calls that give the same model back.
_SAME_MODEL_ATTRIBUTES = frozenset({"module", "_orig_mod"})
_UNWRAP = frozenset({"unwrap_model", "extract_model_from_parallel"})
# A diffusers pipeline's adapted components: diffusers names adapters per pipeline (`load_lora_weights`,
# `set_adapters`), so `pipe.unet.add_adapter(...)` gives `pipe` the adapter (in modules that import diffusers).
_PIPELINE_COMPONENTS = frozenset({"unet", "transformer", "text_encoder", "text_encoder_2", "text_encoder_3", "prior"})
# Libraries whose `add_adapter` is not PEFT's: AdapterHub (`adapters`, `transformers.adapters` of old).
_OTHER_ADAPTER_LIBRARIES = frozenset({"adapters"})
# A module that uses none of these does not hold PEFT models: its `.load_adapter(...)` is something else.
_ML_LIBRARIES = frozenset(
    "peft transformers diffusers torch trl accelerate unsloth unsloth_zoo swift llamafactory axolotl "
    "deepspeed vllm sentence_transformers".split()
)
_MAX_ALIASES = 6
_MAX_HELPER_DEPTH = 3  # functions of the module a model is passed through, read for whether they keep it
FunctionDef = Union[ast.FunctionDef, ast.AsyncFunctionDef]


@dataclass(frozen=True)
class ConfigFacts:
    """What one adapter config says; `None` where the code does not tell (a value built elsewhere)."""

    method: Optional[Method]
    target_modules: Optional[frozenset[str]]  # plain module names; None: unknown, a regex or "all-linear"
    modules_to_save: Optional[frozenset[str]]  # None: unknown
    adds_head: bool  # a classification task_type: peft adds the head to modules_to_save itself
    bias: Optional[str]  # "none" (the default), "all", "lora_only"; None: unknown

    @property
    def trains_modules_to_save(self) -> Optional[bool]:
        if self.adds_head:
            return True
        return None if self.modules_to_save is None else bool(self.modules_to_save)


@dataclass
class Model:
    """One PEFT model value and what the module does with it."""

    key: ModelKey
    text: str  # how the code names it
    uses: list[NameUse] = field(default_factory=list)  # adapter names passed to its methods, in order
    configs: dict[int, Optional[ConfigFacts]] = field(default_factory=dict)  # id(call) -> config of that call
    saved_at: list[Position] = field(default_factory=list)  # saves, state_dict(), or leaving the module's view
    always_saved: bool = False  # kept where the rules cannot follow it (`self.model`, a module-level value)

    def saved_after(self, position: Position) -> bool:
        return self.always_saved or any(p > position for p in self.saved_at)

    @property
    def saved(self) -> bool:
        return self.always_saved or bool(self.saved_at)


@dataclass
class ModelFacts:
    models: dict[ModelKey, Model]
    model_of_call: dict[int, ModelKey]  # id(call that names an adapter) -> its model
    expected_to_fail: set[int]  # id(call) inside `with pytest.raises(...)`
    peft_module: bool  # the module can hold PEFT models at all

    def model_of(self, use: NameUse) -> Optional[Model]:
        key = self.model_of_call.get(id(use.call))
        return None if key is None else self.models.get(key)

    def config_of(self, use: NameUse) -> Optional[ConfigFacts]:
        """The config the adapter named here was built with, if the code tells it."""
        model = self.model_of(use)
        if model is None:
            return None
        own = model.configs.get(id(use.call))
        if own is not None:
            return own
        # a name passed to set_adapter/delete_adapter: the config of the call that added it
        for other in model.uses:
            if other.value == use.value and other.call is not use.call and model.configs.get(id(other.call)):
                return model.configs[id(other.call)]
        return None


def model_facts(facts: ModuleFacts) -> ModelFacts:
    return facts.derived(_build)


def peft_uses(facts: ModuleFacts) -> list[NameUse]:
    """The adapter-name uses that can be PEFT's: in a module that uses an ML library and not AdapterHub's
    `adapters`, and not inside `with pytest.raises(...)` (a call expected to fail registers no adapter)."""
    return facts.derived(_peft_uses)


def _peft_uses(facts: ModuleFacts) -> list[NameUse]:
    found = model_facts(facts)
    if not found.peft_module:
        return []
    return [u for u in adapter_name_uses(facts) if id(u.call) not in found.expected_to_fail]


def position(node: ast.AST) -> Position:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


# ---------------------------------------------------------------------------------------------


def _build(facts: ModuleFacts) -> ModelFacts:
    uses = adapter_name_uses(facts)
    builder = _Builder(facts)
    result = ModelFacts({}, {}, builder.expected_to_fail(uses), _is_peft_module(facts, uses))
    if not uses or not result.peft_module:
        return result
    for use in uses:
        key, text = builder.model_key(use)
        if key is None:
            continue
        model = result.models.setdefault(key, Model(key, text))
        if not isinstance(key, tuple) or key[0] != "local":
            model.always_saved = True
        model.uses.append(use)
        result.model_of_call[id(use.call)] = key
        if id(use.call) not in model.configs:
            model.configs[id(use.call)] = builder.config_of_call(use)
    builder.find_saves(result.models)
    builder.parameters_saved_by_callers(result.models)
    return result


def _is_peft_module(facts: ModuleFacts, uses: list[NameUse]) -> bool:
    """The module imports peft or an ML library, or hands names to another module of the project that
    passes them on to one."""
    roots = {origin.split(".")[0] for origin in facts.imports.values()}
    if "peft" in roots or any(u.through for u in uses):
        return True
    if roots & _OTHER_ADAPTER_LIBRARIES:
        return False
    return bool(roots & _ML_LIBRARIES) or bool(facts.config_methods)


class _Builder:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.diffusers = any(origin.split(".")[0] == "diffusers" for origin in facts.imports.values())

    def expected_to_fail(self, uses: Iterable[NameUse]) -> set[int]:
        blocks = [
            (position(w), (w.end_lineno or w.lineno, w.end_col_offset or 0)) for w, _ in self.facts.expected_failures
        ]
        if not blocks:
            return set()
        return {id(u.call) for u in uses if any(a < position(u.call) <= b for a, b in blocks)}

    # -- which model -------------------------------------------------------------------------------

    def model_key(self, use: NameUse) -> tuple[Optional[ModelKey], str]:
        if use.through:
            return None, ""  # the receiver of another module's wrapper need not be the model it changes
        call, func = use.call, use.call.func
        creator = _creator_name(func)
        if creator is not None:
            holder = self._holder_of(call, use.scope)
            if holder is None:
                return ("call", id(call)), creator
            return holder
        if isinstance(func, ast.Attribute):
            return self._key_of_expr(func.value, use.scope, position(call))
        return None, ""

    def _holder_of(self, value: ast.expr, scope: Scope) -> Optional[tuple[ModelKey, str]]:
        """The variable a creating call is assigned to: `model = get_peft_model(...)`."""
        for name, values in scope.bindings.items():
            if any(v is value for v in values):
                return ("local", id(scope), name, id(value)), name
        cls = ModuleFacts._class_of(scope)
        if cls is not None:
            for attr, values in self.facts.instance_attrs.get(id(cls), {}).items():
                if any(v is value for v in values):
                    return ("attr", id(cls), attr), f"self.{attr}"
        return None

    def _key_of_expr(
        self, expr: ast.expr, scope: Scope, at: Position, depth: int = 0
    ) -> tuple[Optional[ModelKey], str]:
        if depth > _MAX_ALIASES:
            return None, ""
        if isinstance(expr, ast.Attribute) and (
            expr.attr in _SAME_MODEL_ATTRIBUTES or (expr.attr in _PIPELINE_COMPONENTS and self.diffusers)
        ):
            return self._key_of_expr(expr.value, scope, at, depth + 1)
        if isinstance(expr, ast.Call) and called_name(expr.func) in _UNWRAP and expr.args:
            return self._key_of_expr(expr.args[0], scope, at, depth + 1)
        if isinstance(expr, ast.Name):
            found = self.facts._lookup(expr.id, scope)
            if found is None:  # a parameter, or an unknown name
                owner = _binding_scope(expr.id, scope)
                return ("local", id(owner), expr.id, None), expr.id
            values, owner = found
            value = _live_binding([v for v, _ in values], at if owner is scope else None)
            if value is None:
                return ("local", id(owner), expr.id, None), expr.id
            if isinstance(value, (ast.Name, ast.Attribute, ast.Call)) and _creator_name(_func(value)) is None:
                if isinstance(value, ast.Name) or _is_alias(value):
                    return self._key_of_expr(value, owner, position(value), depth + 1)
            return ("local", id(owner), expr.id, id(value)), expr.id
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
            cls = ModuleFacts._class_of(scope)
            return ("attr", id(cls), expr.attr), f"self.{expr.attr}"
        text = ast.unparse(expr)
        return ("expr", id(scope), text), text

    # -- which config ------------------------------------------------------------------------------

    def config_of_call(self, use: NameUse) -> Optional[ConfigFacts]:
        call = use.call
        name = called_name(call.func)
        if name in ("get_peft_model", "inject_adapter_in_model") or name in PEFT_MODEL_CLASSES:
            expr = call_argument(call, 1 if name != "inject_adapter_in_model" else 0, "peft_config", "config")
        elif name == "add_adapter":
            other = 1 if call.args and use.node is call.args[0] else 0
            expr = call_argument(call, other, "peft_config", "adapter_config", "config")
        else:
            return None
        return None if expr is None else self._config(expr, use.scope)

    def _config(self, expr: ast.expr, scope: Scope, depth: int = 0) -> Optional[ConfigFacts]:
        if isinstance(expr, ast.Name) and depth < _MAX_ALIASES:
            value = self.facts._value_of(expr, scope)
            return None if value is None or value is UNKNOWN else self._config(value, scope, depth + 1)
        if not isinstance(expr, ast.Call):
            return None
        method = METHODS_BY_CONFIG.get(called_name(expr.func) or "")
        if method is None or any(k.arg is None for k in expr.keywords) or any(
            isinstance(a, ast.Starred) for a in expr.args
        ):
            return None
        keywords = {k.arg: k.value for k in expr.keywords}
        task = keywords.get("task_type")
        task_text = task.value if isinstance(task, ast.Constant) else getattr(task, "attr", None)
        bias = keywords.get("bias")
        return ConfigFacts(
            method,
            _names(keywords.get("target_modules"), scope, self.facts, regex_ok=False),
            _names(keywords.get("modules_to_save"), scope, self.facts, regex_ok=True)
            if "modules_to_save" in keywords
            else frozenset(),
            task_text in TASKS_WITH_MODULES_TO_SAVE,
            "none" if bias is None else (str(bias.value) if isinstance(bias, ast.Constant) else None),
        )

    # -- saves ----------------------------------------------------------------------------------------

    def find_saves(self, models: dict[ModelKey, Model]) -> None:
        """Every save of a known model, and every place it leaves what the rules can follow (passed to
        a function, returned, stored): after those it may be saved anywhere."""
        local: set[ModelKey] = {k for k in models if isinstance(k, tuple) and k[0] == "local"}
        if not local:
            return
        roots = self._names_of_models(local)
        naming = {id(c) for m in models.values() for c in (u.call for u in m.uses)}
        for call, scope in self.facts.calls:
            func = call.func
            name = called_name(func)
            if isinstance(func, ast.Attribute) and name in _SAVES and _root(func.value) in roots:
                self._mark(models, func.value, scope, call)
            if name in _INERT or id(call) in naming:
                continue
            for arg in [*call.args, *(k.value for k in call.keywords)]:
                arg = arg.value if isinstance(arg, ast.Starred) else arg
                if isinstance(arg, (ast.Name, ast.Attribute)) and _root(arg) in roots:
                    handed = (
                        isinstance(arg, ast.Name) or name in _SAVING_FUNCTIONS or arg.attr in _SAME_MODEL_ATTRIBUTES
                    )
                    if handed and self._may_keep(call, arg, 0):
                        self._mark(models, arg, scope, call)
        for ret, scope in self.facts.returns:
            value = ret.value
            if value is not None and _root(value) in roots:
                for part in value.elts if isinstance(value, ast.Tuple) else [value]:
                    self._mark(models, part, scope, ret)
        for key in local:  # `self.model = model`, `models.append(model)`, `x = [model]`: kept elsewhere
            model = models[key]
            if key[3] is None and _is_module_scope(key[1], self.facts):  # type: ignore[index]
                model.always_saved = True

    def parameters_saved_by_callers(self, models: dict[ModelKey, Model]) -> None:
        """A model a function receives as a parameter comes from its callers: saved after the call unless
        every caller in the module passes a model of its own that is known and never saved after it (a
        function the module never calls is called from elsewhere: saved, as far as the rules know)."""
        scopes = {id(s): s for s in self.facts.scope_of.values()}
        for key, model in models.items():
            if model.saved or not (isinstance(key, tuple) and len(key) == 4):
                continue
            kind, scope_id, name, binding = key
            scope = scopes.get(scope_id)
            if kind != "local" or binding is not None or scope is None or name not in scope.params:
                continue
            if isinstance(scope.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                model.always_saved = not self._callers_never_save(scope.node, name, models)

    def _callers_never_save(self, function: FunctionDef, param: str, models: dict[ModelKey, Model]) -> bool:
        callers = [
            (call, scope)
            for call, scope in self.facts.calls
            if isinstance(call.func, ast.Name) and call.func.id == function.name
        ]
        if not callers or self._local_function(ast.Name(function.name)) is not function:
            return False
        for call, scope in callers:
            passed = _argument_for(call, param, function)
            if passed is None:
                return False
            key, _ = self._key_of_expr(passed, scope, position(call))
            caller_model = models.get(key) if key is not None else None
            if caller_model is None or caller_model.saved_after(position(call)):
                return False
        return True

    def _may_keep(self, call: ast.Call, arg: ast.expr, depth: int) -> bool:
        """Whether the call may save the model passed as `arg`, or keep it where the rules cannot follow it.
        A function of this module is read (`evaluate(model, data)` that only calls `model(...)`): it keeps the
        model when its parameter is saved, returned, stored, bound to another name or handed to another
        call that may keep it. Anything else may."""
        function = self._local_function(call.func)
        if function is None or depth >= _MAX_HELPER_DEPTH:
            return True
        param = _parameter_for(call, arg, function)
        inner = self.facts.scope_of.get(id(function))
        if param is None or inner is None or any(s.parent is inner for s in self.facts.scope_of.values()):
            return True  # not bound to a named parameter, or nested functions that may capture it
        if any(_root(v) == param for values in inner.bindings.values() for v in values if v is not UNKNOWN):
            return True
        if _stores(function, param):
            return True
        if any(ret.value is not None and _root(ret.value) == param for ret, s in self.facts.returns if s is inner):
            return True
        for inner_call, scope in self.facts.calls:
            if scope is not inner:
                continue
            func, name = inner_call.func, called_name(inner_call.func)
            if isinstance(func, ast.Attribute) and name in _SAVES and _root(func.value) == param:
                return True
            if name in _INERT:
                continue
            for passed in [*inner_call.args, *(k.value for k in inner_call.keywords)]:
                passed = passed.value if isinstance(passed, ast.Starred) else passed
                if isinstance(passed, (ast.Name, ast.Attribute)) and _root(passed) == param:
                    if self._may_keep(inner_call, passed, depth + 1):
                        return True
        return False

    def _local_function(self, func: ast.expr) -> Optional[FunctionDef]:
        """The module-level or nested function a plain call names, when exactly one is so named."""
        if not isinstance(func, ast.Name):
            return None
        found = [
            f for f, _ in self.facts.functions
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name == func.id
        ]
        return found[0] if len(found) == 1 else None

    def _names_of_models(self, local: set[ModelKey]) -> set[str]:
        """The variables that hold these models, and those bound to them (`m = model`, `unwrap_model(model)`)."""
        names = {k[2] for k in local}  # type: ignore[index]
        for scope in [self.facts.module_scope, *self.facts.scope_of.values()]:
            for name, values in scope.bindings.items():
                if any(_root(_alias_source(v)) in names for v in values if isinstance(v, ast.Name) or _is_alias(v)):
                    names.add(name)
        return names

    def _mark(self, models: dict[ModelKey, Model], expr: ast.expr, scope: Scope, node: ast.AST) -> None:
        key, _ = self._key_of_expr(expr, scope, position(node))
        if key in models:
            models[key].saved_at.append(position(node))


def _names(
    value: Optional[ast.expr], scope: Scope, facts: ModuleFacts, regex_ok: bool
) -> Optional[frozenset[str]]:
    if value is None:
        return None if not regex_ok else frozenset()
    if isinstance(value, ast.Name):
        resolved = facts._value_of(value, scope)
        if resolved is None or resolved is UNKNOWN:
            return None
        value = resolved
    if isinstance(value, ast.Constant) and value.value is None:
        return frozenset()
    items = value.elts if isinstance(value, (ast.List, ast.Tuple, ast.Set)) else None
    if items is None:
        return None  # a regex string, "all-linear", or a value built elsewhere
    names = set()
    for item in items:
        if not (isinstance(item, ast.Constant) and isinstance(item.value, str)):
            return None
        names.add(item.value.rsplit(".", 1)[-1] if regex_ok else item.value)
    if not regex_ok and not all(n.replace(".", "_").isidentifier() for n in names):
        return None
    return frozenset(n.rsplit(".", 1)[-1] for n in names)


def _creator_name(func: ast.expr) -> Optional[str]:
    """`get_peft_model(...)`, `PeftModel(...)`, `PeftModel.from_pretrained(...)`, `AutoPeftModel*.from_pretrained`."""
    if isinstance(func, ast.Attribute) and func.attr == "from_pretrained":
        owner = called_name(func.value) or ""
        return owner if owner in PEFT_MODEL_CLASSES or owner.startswith("AutoPeftModel") else None
    name = called_name(func) if isinstance(func, ast.Name) else None
    return name if name in _CREATORS else None


def _func(value: ast.expr) -> ast.expr:
    return value.func if isinstance(value, ast.Call) else value


def _is_alias(value: ast.expr) -> bool:
    if isinstance(value, ast.Attribute):
        return value.attr in _SAME_MODEL_ATTRIBUTES
    return isinstance(value, ast.Call) and called_name(value.func) in _UNWRAP


def _alias_source(value: ast.expr) -> ast.expr:
    if isinstance(value, ast.Call) and value.args:
        return value.args[0]
    return value.value if isinstance(value, ast.Attribute) else value


def _live_binding(values: list[ast.expr], at: Optional[Position]) -> Optional[ast.expr]:
    """The binding a use at `at` sees: the last one before it in the same scope (for a use in an inner
    scope, the only one)."""
    if at is None:
        return values[0] if len(values) == 1 else None
    before = [v for v in values if v is not UNKNOWN and position(v) < at]
    if any(v is UNKNOWN for v in values) and len(values) > 1:
        return None  # rebound by a loop or an unpacking somewhere: which value is unknown
    return max(before, key=position) if before else None


def _binding_scope(name: str, scope: Scope) -> Scope:
    current: Optional[Scope] = scope
    while current is not None:
        if name in current.params or name in current.bindings:
            return current
        current = current.parent
    return scope


def _stores(function: FunctionDef, param: str) -> bool:
    """The function puts its parameter somewhere a name does not hold it: an item or attribute of another
    object (`cache[k] = model`, `trainer.model = model`), a yield, a lambda, a global."""
    for node in ast.walk(function):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            stored = not all(isinstance(t, ast.Name) for t in targets)
            if stored and node.value is not None and _mentions(node.value, param):
                return True
        elif isinstance(node, (ast.Yield, ast.YieldFrom, ast.Lambda)) and _mentions(node, param):
            return True
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            return True
    return False


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _parameter_for(call: ast.Call, arg: ast.expr, function: FunctionDef) -> Optional[str]:
    """The parameter of `function` that `arg` of `call` binds, if Python's binding rules say so plainly."""
    args = function.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    for index, passed in enumerate(call.args):
        if isinstance(passed, ast.Starred):
            return None
        if passed is arg:
            return positional[index] if index < len(positional) else None
    for keyword in call.keywords:
        if keyword.value is arg and keyword.arg is not None:
            names = set(positional[len(args.posonlyargs):]) | {a.arg for a in args.kwonlyargs}
            return keyword.arg if keyword.arg in names else None
    return None


def _argument_for(call: ast.Call, param: str, function: FunctionDef) -> Optional[ast.expr]:
    """The argument of `call` that binds `param` of `function`, positionally or by keyword."""
    positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    for keyword in call.keywords:
        if keyword.arg == param:
            return keyword.value
    index = positional.index(param) if param in positional else None
    return call.args[index] if index is not None and index < len(call.args) else None


def _root(expr: ast.expr) -> Optional[str]:
    while isinstance(expr, (ast.Attribute, ast.Subscript, ast.Call)):
        expr = expr.func if isinstance(expr, ast.Call) else expr.value
    return expr.id if isinstance(expr, ast.Name) else None


def _is_module_scope(scope_id: object, facts: ModuleFacts) -> bool:
    return scope_id == id(facts.module_scope)
