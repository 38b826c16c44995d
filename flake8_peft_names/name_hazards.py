"""Why one adapter name is hazardous for the methods a module uses, and a name that is safe."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

from .module_facts import ModuleFacts
from .peft_facts import (
    COMMON_TARGET_MODULES,
    DOTTED_NAME,
    EMPTY_NAME,
    KEY_COMPONENT,
    KEY_COMPONENT_PREFIX,
    METHODS,
    MODULE_DICT_ATTRIBUTE,
    MODULE_DICT_ATTRIBUTES,
    MODULE_PATH_COMPONENT,
    MODULES_TO_SAVE_MODULE,
    MODULES_TO_SAVE_NAME,
    NAME_INSIDE_PREFIX,
    PARAMETER_DICT_ATTRIBUTE,
    PARAMETER_DICT_EXTRA_ATTRIBUTES,
    PARAMETER_DICT_METHODS,
    PREFIX_INSIDE_NAME,
    STRUCTURAL_KEY_COMPONENTS,
    WEIGHT_OR_BIAS_WITH_MODULES_TO_SAVE,
    Hazard,
    Method,
)
from .module_paths import ALL_COMPONENTS as ALL_PATH_COMPONENTS
from .module_paths import FAMILIES, LAYER_INDEXES, Family
from .settings import Settings


@dataclass(frozen=True)
class NameContext:
    """What a module tells about the adapters it builds."""

    methods: tuple[Method, ...]
    components: frozenset[str]  # state-dict key components an adapter name must not equal or start
    modules_to_save: frozenset[str]
    # Components of the module paths to the adapted modules (module_paths.py), for the families in use.
    path_components: frozenset[str] = frozenset()
    families: tuple[Family, ...] = ()  # the families the module names; empty: not known

    @classmethod
    def of(cls, facts: ModuleFacts, settings: Settings) -> NameContext:
        return facts.derived(cls._build, settings)

    @classmethod
    def _build(cls, facts: ModuleFacts, settings: Settings) -> NameContext:
        methods = settings.methods or facts.methods
        components = set(STRUCTURAL_KEY_COMPONENTS)
        if not facts.biases - {"none"} and not facts.mentions_modules_to_save:
            components.discard("bias")  # nothing in the file sets a bias to train: the default "none" keeps none
        components.update(n for m in methods if m.names_reach_keys for n in m.param_names)
        components.update(facts.target_modules or COMMON_TARGET_MODULES)
        components.update(facts.modules_to_save)
        families = facts.derived(families_in)
        paths = path_components(families, facts.target_modules, facts.all_linear_targets)
        return cls(methods, frozenset(components), frozenset(facts.modules_to_save), paths, families)


def families_in(facts: ModuleFacts) -> tuple[Family, ...]:
    """The architecture families a module names: imported classes, and `X.from_pretrained(...)` owners."""
    names = {origin.rsplit(".", 1)[-1] for origin in facts.imports.values()}
    for call, _ in facts.calls:
        func = call.func
        if isinstance(func, ast.Attribute):
            owner = func.value
            names.add(owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", ""))
        elif isinstance(func, ast.Name):
            names.add(func.id)
    return tuple(f for f in FAMILIES if any(n.startswith(f.markers) for n in names))


def path_components(families: tuple[Family, ...], targets: set[str], all_linear: bool) -> frozenset[str]:
    """The module-path components above the adapted modules. `all-linear` adapts every module; without
    `target_modules=` a family's usual targets are assumed. An unknown architecture gets the components that
    are hazardous in at least two families."""

    def hazardous(family: Family) -> frozenset[str]:
        if all_linear:
            return family.hazardous(None)
        return family.hazardous(frozenset(targets) if targets else family.default_targets)

    if families:
        found = frozenset(c for f in families for c in hazardous(f))
    else:
        counts: dict[str, int] = {}
        for family in FAMILIES:
            for component in hazardous(family):
                counts[component] = counts.get(component, 0) + 1
        found = frozenset(c for c, n in counts.items() if n >= 2)
    return found | LAYER_INDEXES


@dataclass(frozen=True)
class Problem:
    """One hazard a name carries; the rule that lists `hazard` among its own reports it."""

    hazard: Hazard
    values: dict[str, str]  # fills the message template of the rule that reports it


def problems(name: str, context: NameContext, has_modules_to_save: bool) -> Iterator[Problem]:
    """Every problem of one adapter name, most specific first (the rules report the first that
    happens in a supported peft version)."""
    yield from _invalid(name, context.methods)
    keyed = [m for m in context.methods if m.names_reach_keys]
    for method in keyed:
        if method.prefix in name and has_modules_to_save:  # measured: only the modules_to_save weights go
            yield Problem(PREFIX_INSIDE_NAME, {"method": method.display, "prefix": method.prefix})
    for method in keyed:
        if name and name != method.prefix and method.prefix.startswith(name):
            yield Problem(NAME_INSIDE_PREFIX, {"method": method.display, "prefix": method.prefix})
    module = next((m for m in sorted(context.modules_to_save) if name.endswith(m)), None)
    if module is not None:  # peft matches modules_to_save with str.endswith: `adapter_head` is a `head`
        kind = (
            "the name of a modules_to_save module"
            if name == module
            else f"a name ending in the modules_to_save module {module!r}"
        )
        yield Problem(MODULES_TO_SAVE_MODULE, {"kind": kind})
    elif name == "modules_to_save":
        if has_modules_to_save:
            yield Problem(MODULES_TO_SAVE_NAME, {"kind": "the modules_to_save key component"})
    elif name in context.components:
        if name in ("weight", "bias") and has_modules_to_save:
            kind = f"the '.{name}' key suffix, next to modules_to_save"
            yield Problem(WEIGHT_OR_BIAS_WITH_MODULES_TO_SAVE, {"kind": kind})
        else:
            yield Problem(KEY_COMPONENT, {"kind": _component_kind(name, keyed)})
    elif name in context.path_components and keyed:
        yield Problem(MODULE_PATH_COMPONENT, {"kind": _path_kind(name, context)})
    for component in sorted(context.components | (context.path_components if keyed else frozenset())):
        if name and component != name and component.startswith(name):
            yield Problem(KEY_COMPONENT_PREFIX, {"component": component})
            break


def _invalid(name: str, methods: Iterable[Method]) -> Iterator[Problem]:
    if name == "":
        yield Problem(EMPTY_NAME, {"reason": "is empty"})
    elif "." in name:
        yield Problem(DOTTED_NAME, {"reason": "contains '.'"})
    elif name in MODULE_DICT_ATTRIBUTES:
        yield Problem(MODULE_DICT_ATTRIBUTE, {"reason": "is an attribute of torch.nn.ModuleDict"})
    elif name in PARAMETER_DICT_EXTRA_ATTRIBUTES:
        users = [m.display for m in methods if m.peft_type in PARAMETER_DICT_METHODS]
        if users:
            reason = f"is an attribute of torch.nn.ParameterDict, which {users[0]} uses"
            yield Problem(PARAMETER_DICT_ATTRIBUTE, {"reason": reason})


def _component_kind(name: str, methods: Iterable[Method]) -> str:
    if name in STRUCTURAL_KEY_COMPONENTS:
        return "a state-dict key component"
    for method in methods:
        if name in method.param_names:
            return f"{method.display}'s parameter name, a state-dict key component"
    return "a target module name, a state-dict key component"


def _path_kind(name: str, context: NameContext) -> str:
    if name in LAYER_INDEXES:
        return "a layer index, a module-path component of every stacked model (`layers.N`)"
    families = [f for f in context.families if name in f.below] or [f for f in FAMILIES if name in f.below]
    where = " and ".join(f.display for f in families[:2]) + (" ..." if len(families) > 2 else "")
    example = families[0].example[name]
    known = "" if context.families else ", common to several architectures (the model is not named here)"
    return f"a module-path component of {where} (`{example}`){known}"


# Everything any adapter name could collide with, in any method: a safe name avoids all of it.
_ALL_KEYED = tuple(m for m in METHODS if m.names_reach_keys)
_ALL_COMPONENTS = (
    STRUCTURAL_KEY_COMPONENTS
    | COMMON_TARGET_MODULES
    | {n for m in _ALL_KEYED for n in m.param_names}
    | ALL_PATH_COMPONENTS
)


def is_safe(name: str, context: NameContext, others: Iterable[str] = ()) -> bool:
    """Safe in every peft version and method the facts cover, and overlapping no other name."""
    if not name or "." in name or name in MODULE_DICT_ATTRIBUTES or name in PARAMETER_DICT_EXTRA_ATTRIBUTES:
        return False
    if any(m.prefix in name or m.prefix.startswith(name) for m in _ALL_KEYED):
        return False
    components = _ALL_COMPONENTS | context.components
    if any(c.startswith(name) for c in components) or any(name.endswith(m) for m in context.modules_to_save):
        return False
    return not any(name in o or o in name for o in others)


def safe_name(name: str, context: NameContext, others: Iterable[str] = ()) -> Optional[str]:
    """The suggested name, in one convention: `adapter_` + the name with what PEFT mishandles turned into
    `-` (a `.`, a method's prefix `lora_` -> `lora-`); then a number at the end (`_2`...`_9`) while that is
    still unsafe; then a number in the prefix (`adapter2_`...) while it overlaps another adapter's name:
    `lora` -> `adapter_lora`, `lora_A` -> `adapter_lora-A` (`adapter2_lora-A` next to `adapter_lora`)."""
    others = [o for o in others if o != name]
    base = name.replace(".", "-")
    for method in _ALL_KEYED:
        base = base.replace(method.prefix, method.prefix[:-1] + "-")
    prefixes = ["adapter", *(f"adapter{n}" for n in range(2, 10))]
    stems = [f"{p}_{base}" if base else p for p in prefixes]
    candidates = (c for stem in stems for c in (stem, *(f"{stem}_{n}" for n in range(2, 10))))
    return next((c for c in candidates if is_safe(c, context, others)), None)
