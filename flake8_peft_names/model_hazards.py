"""The hazards of one adapter name judged by the model it is given to: that model's config where the code
shows it (method, target_modules, modules_to_save, bias), else the file-wide facts; and whether the model is
saved after the name is given (a hazard that strikes on save is latent on a model that never is)."""
from __future__ import annotations

from typing import Optional

from .adapter_sites import NameUse
from .model_facts import ConfigFacts, model_facts, position
from .module_facts import ModuleFacts
from .name_hazards import NameContext, Problem, families_in, path_components, problems
from .peft_facts import COMMON_TARGET_MODULES, STRUCTURAL_KEY_COMPONENTS, Effect
from .rule import hitting
from .settings import Settings


def context_of(
    facts: ModuleFacts, settings: Settings, use: NameUse
) -> tuple[NameContext, bool]:
    """The facts one name is judged by: the config of the model it is given to, where the code tells it;
    else the file-wide facts (every method, target module and modules_to_save the file names)."""
    config = model_facts(facts).config_of(use)
    if config is None or config.method is None:
        return NameContext.of(facts, settings), facts.mentions_modules_to_save
    return facts.derived(_config_context, config, settings)


def _config_context(facts: ModuleFacts, config: ConfigFacts, settings: Settings) -> tuple[NameContext, bool]:
    assert config.method is not None
    methods = settings.methods or (config.method,)
    trains = config.trains_modules_to_save
    has_modules_to_save = facts.mentions_modules_to_save if trains is None else trains
    modules_to_save = facts.modules_to_save if config.modules_to_save is None else config.modules_to_save
    components = set(STRUCTURAL_KEY_COMPONENTS)
    if config.bias == "none" and not has_modules_to_save:
        components.discard("bias")  # no bias in this adapter's keys: a name inside `bias` cuts nothing
    components.update(n for m in methods if m.names_reach_keys for n in m.param_names)
    if config.target_modules is not None:
        components.update(config.target_modules)
    else:
        components.update(facts.target_modules or COMMON_TARGET_MODULES)
    components.update(modules_to_save)
    families = facts.derived(families_in)
    if config.target_modules is not None:
        paths = path_components(families, set(config.target_modules), all_linear=False)
    else:  # a regex, "all-linear" or unknown: what the file says
        paths = path_components(families, facts.target_modules, facts.all_linear_targets)
    context = NameContext(methods, frozenset(components), frozenset(modules_to_save), paths, families)
    return context, has_modules_to_save


def _problem_in(
    name: str, facts: ModuleFacts, settings: Settings, context: NameContext, has_modules_to_save: bool
) -> Optional[tuple[Problem, tuple[Effect, ...]]]:
    return facts.derived(_find_problem_in, name, settings, context, has_modules_to_save)


def _find_problem_in(
    facts: ModuleFacts, name: str, settings: Settings, context: NameContext, has_modules_to_save: bool
) -> Optional[tuple[Problem, tuple[Effect, ...]]]:
    for problem in problems(name, context, has_modules_to_save):
        effects = hitting([problem.hazard], settings.supported)
        if effects:
            return problem, effects
    return None


def use_problem(
    facts: ModuleFacts, settings: Settings, use: NameUse
) -> Optional[tuple[Problem, tuple[Effect, ...]]]:
    context, has_modules_to_save = context_of(facts, settings, use)
    return _problem_in(use.value, facts, settings, context, has_modules_to_save)


def not_saved_after(facts: ModuleFacts, use: NameUse) -> bool:
    """The model this name is given to is known, and never saved (nor handed on) after it."""
    model = model_facts(facts).model_of(use)
    return model is not None and not model.saved_after(position(use.call))
