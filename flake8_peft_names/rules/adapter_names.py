"""PFT1xx: adapter names that PEFT mishandles."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional, Union

from .. import peft_facts
from ..adapter_sites import NameUse, adapter_name_uses
from ..model_facts import Model, model_facts, peft_uses, position
from ..model_hazards import not_saved_after, use_problem
from ..module_facts import ModuleFacts
from ..name_hazards import NameContext, Problem, problems, safe_name
from ..peft_facts import PEFT_MODEL_CLASSES, Effect, Hazard
from ..rename_roles import rename_scope
from ..rule import (
    Applicability,
    Check,
    Finding,
    Fix,
    RenameAdapter,
    Rule,
    effects_text,
    finding_at,
    hitting,
    start,
    used_on,
)
from ..settings import Settings
from ..statements import NEW_SCOPES, assigned_targets, blocks, calls_in

RENAME_SAFETY = (
    "Unsafe, and offered only when every use of the value in the file is an adapter name (an argument of "
    "peft's, transformers' or diffusers' adapter APIs, a key of `peft_config` or of a layer's `lora_A`-like "
    "dict, a comparison with `active_adapter(s)`, a list given to `set_adapters`): then all of them, and "
    "the constant, default or option the value comes from, are renamed together, and the fix lists every "
    "line it changes. Checkpoints on disk and other files may still use the old name. When the value also "
    "does something else (selects a method, builds a path, is compared with another value, goes to another "
    "function, is a command-line flag's documented default), the rename is only shown, with the use that "
    "blocks it."
)
MODEL_CONFIG_NOTE = (
    " Which method, `target_modules`, `modules_to_save` and `bias` a name is judged by comes from the config of "
    "the model it is given to (`get_peft_model(model, config)`, `add_adapter(name, config)`) where the code "
    "shows it; where it does not (a config loaded by `from_pretrained` or built elsewhere), from everything the "
    "file names. Calls inside `with pytest.raises(...)` and modules that import no ML library are not checked."
)
LATENT_NOTE = (
    " A model the code never saves nor hands on after the name is given makes the finding latent (the loss "
    "happens on save), and the message says so; a model a function receives as a parameter only when every "
    "caller in the file passes one it never saves afterwards."
)
NO_FIX = "No automatic fix: which name to change, and to what, is the user's choice."


def _with_definitions(
    rule: Rule, use: NameUse, values: dict[str, str], fix: Optional[Fix], facts: ModuleFacts
) -> Iterator[Finding]:
    """The finding at the use, and one at the literal it comes from (deduplicated by the checker), which
    lists every line the name is used on. The fix goes with the string literal: at the use when it is
    written there, else at the definition; a name built from several strings (an f-string) gets none."""
    at_use = fix if use.literal is use.node else None
    note = f"; {use.note}" if use.note else ""
    yield finding_at(rule, use.node, dict(values, where=values["where"] + note), at_use)
    if use.defined_elsewhere:
        assert use.literal is not None
        lines = sorted({start(u.node)[0] for u in adapter_name_uses(facts) if u.literal is use.literal})
        here = dict(values, where=f"; defined here, used as an adapter name on {used_on(lines)}{note}")
        yield finding_at(rule, use.literal, here, fix)


def _first_problem(
    name: str, facts: ModuleFacts, settings: Settings
) -> Optional[tuple[Problem, tuple[Effect, ...]]]:
    """The first problem of a name that happens in a supported peft version, with its effects."""
    return facts.derived(_find_first_problem, name, settings)


def _find_first_problem(
    facts: ModuleFacts, name: str, settings: Settings
) -> Optional[tuple[Problem, tuple[Effect, ...]]]:
    context = NameContext.of(facts, settings)
    for problem in problems(name, context, facts.mentions_modules_to_save):
        effects = hitting([problem.hazard], settings.supported)
        if effects:
            return problem, effects
    return None


LATENT_UNSAVED = "latent here: this model is never saved or handed on after it, and the loss happens on save"


def _rename_plan(facts: ModuleFacts, settings: Settings) -> dict[str, Optional[str]]:
    """One new name for every name with a problem, chosen together so that the renamed file has no
    overlaps and a second run finds nothing more to rename."""
    return facts.derived(_plan_renames, settings)


def _plan_renames(facts: ModuleFacts, settings: Settings) -> dict[str, Optional[str]]:
    names = list(dict.fromkeys(u.value for u in adapter_name_uses(facts)))
    broken = [n for n in names if _first_problem(n, facts, settings) is not None]
    if not broken:
        return {}  # most files: no name to rename, and no context to build
    taken = [n for n in names if n not in broken]
    context = NameContext.of(facts, settings)
    plan: dict[str, Optional[str]] = {}
    for name in broken:
        new = plan[name] = safe_name(name, context, taken)
        if new is not None:
            taken.append(new)
    return plan


def _at(use: NameUse, effects: tuple[Effect, ...]) -> tuple[Effect, ...]:
    """The effects as they read at this use: at an API that only refers to an adapter, a name whose
    creation raises is a name no adapter can have."""
    if use.api.name in peft_facts.CREATING_APIS:
        return effects
    referred = "names an adapter that cannot exist: creating an adapter so named raises KeyError"
    return tuple(
        Effect(e.affected, referred, e.outcome) if e.outcome == "create-raises" else e for e in effects
    )


def _rename_fix(facts: ModuleFacts, old: str, new: str) -> Fix:
    """Unsafe when every use of the value is an adapter-name role, renaming them all; else only shown,
    saying which use blocks it."""
    scope = rename_scope(facts, old)
    intent = RenameAdapter(old, new, scope.sites)
    if scope.blocker is None:
        return Fix(Applicability.UNSAFE, intent, f"rename {old!r} to {new!r} at {scope.places()}")
    return Fix(Applicability.DISPLAY_ONLY, intent, f"rename {old!r} to {new!r} by hand: {scope.reason()}")


def _check_single_names(hazards: tuple[Hazard, ...]) -> Check:
    """The single-name rules share one classification (name_hazards.problems); each reports the names whose
    first problem is one of its own hazards."""

    def check(facts: ModuleFacts, settings: Settings) -> Iterator[Finding]:
        plan = _rename_plan(facts, settings)
        for use in peft_uses(facts):
            found = None if use.implicit else use_problem(facts, settings, use)
            if found is None or found[0].hazard not in hazards:
                continue
            problem, effects = found
            values = dict(problem.values, name=use.value, effects=effects_text(_at(use, effects)), where="")
            if problem.hazard in SAVE_HAZARDS and not_saved_after(facts, use):
                values["effects"] = f"{values['effects']} ({LATENT_UNSAVED})"
            new = plan.get(use.value)
            fix = None if new is None else _rename_fix(facts, use.value, new)
            if new is not None:
                values["effects"] += f"; rename it (e.g. {new!r})"
            yield from _with_definitions(RULE_OF_HAZARD[problem.hazard], use, values, fix, facts)

    return check


def _check_overlaps(facts: ModuleFacts, settings: Settings) -> Iterator[Finding]:
    """Pairs of names that are each fine alone (a name with its own problem is reported for that), held by
    the same model at the same time; names bound to no model are paired within their function."""
    effects = hitting(OVERLAPPING.hazards, settings.supported)
    if not effects:
        return
    models = model_facts(facts)
    groups: dict[object, list[NameUse]] = {}
    for use in peft_uses(facts):
        model = models.model_of(use)
        groups.setdefault(model.key if model else ("scope", id(use.scope)), []).append(use)
    findings: list[Finding] = []
    for key, uses in groups.items():
        findings.extend(_overlaps_on(facts, settings, models.models.get(key), uses, effects))
    for finding in sorted(findings, key=lambda f: (f.line, f.col)):
        yield finding


def _overlaps_on(
    facts: ModuleFacts, settings: Settings, model: Optional[Model], uses: list[NameUse], effects: tuple[Effect, ...]
) -> Iterator[Finding]:
    held: dict[str, NameUse] = {}
    reported: set[frozenset[str]] = set()
    for use in sorted(uses, key=lambda u: position(u.call)):
        if use.api.name in ("delete_adapter", "delete_adapters"):
            held.pop(use.value, None)
            continue
        if use_problem(facts, settings, use) is not None:
            continue
        for name, earlier in held.items():
            pair = frozenset((name, use.value))
            if use.exclusive and earlier.exclusive and earlier.call is use.call:
                continue  # two arms of one conditional: never both adapters at once
            if name != use.value and (name in use.value or use.value in name) and pair not in reported:
                reported.add(pair)
                line = str(start(earlier.node)[0])
                text = effects_text(effects)
                if model is not None and not model.saved_after(position(use.call)):
                    text += " (latent here: this model is never saved or handed on while both adapters exist)"
                values = {"name": use.value, "other": name, "line": line, "effects": text, "where": ""}
                yield from _with_definitions(OVERLAPPING, use, values, None, facts)
        held.setdefault(use.value, use)


@dataclass
class _Adapters:
    """What a block has done so far: expressions holding peft models, and (model, name) -> line."""

    models: set[str] = field(default_factory=set)
    names: dict[tuple[str, str], int] = field(default_factory=dict)

    def copy(self) -> _Adapters:
        return _Adapters(set(self.models), dict(self.names))

    def forget(self, target: str) -> None:
        self.models.discard(target)
        for key in [k for k in self.names if k[0] == target]:
            del self.names[key]


def _check_reuse(facts: ModuleFacts, settings: Settings) -> Iterator[Finding]:
    by_call: dict[int, list[NameUse]] = {}
    for use in peft_uses(facts):
        by_call.setdefault(id(use.call), []).append(use)
    if not by_call:
        return
    with_uses = {id(u.scope.node) for uses in by_call.values() for u in uses}
    scopes: list[Union[ast.Module, ast.FunctionDef, ast.AsyncFunctionDef]] = [facts.tree]
    scopes.extend(f for f, _ in facts.functions if not isinstance(f, ast.Lambda))
    bodies = [node.body for node in scopes if id(node) in with_uses]
    for body in bodies:
        yield from _reuse_in_block(body, _Adapters(), by_call, settings)


def _reuse_in_block(
    body: list[ast.stmt], state: _Adapters, by_call: dict[int, list[NameUse]], settings: Settings
) -> Iterator[Finding]:
    """Walk statements in order. A branch or loop body sees a copy, so what it does is forgotten
    after it: a name used in both branches of an `if` is no reuse."""
    for stmt in body:
        if isinstance(stmt, NEW_SCOPES):
            continue
        uses = [use for call in calls_in(stmt) for use in by_call.get(id(call), [])]
        # what it assigns matters only to a model already named or one it names (`ast.unparse` is not cheap)
        targets = assigned_targets(stmt) if uses or state.models or state.names else []
        for target in targets:
            state.forget(target)
        for use in uses:
            yield from _reuse_at(use, targets, state, settings)
        for block in blocks(stmt):
            inner = state if isinstance(stmt, (ast.With, ast.AsyncWith)) else state.copy()
            yield from _reuse_in_block(block, inner, by_call, settings)


def _reuse_at(use: NameUse, targets: list[str], state: _Adapters, settings: Settings) -> Iterator[Finding]:
    if use.via is not None or use.note or use.exclusive:
        return  # a local function's receiver is unknown here; a fallback or one arm of a conditional may not be used
    func = use.call.func
    line, _ = start(use.node)
    if _creates_peft_model(func):
        for target in targets:
            state.models.add(target)
            state.names[(target, use.value)] = line
        return
    if not isinstance(func, ast.Attribute):
        return
    receiver = ast.unparse(func.value)
    key = (receiver, use.value)
    if use.api.name == "delete_adapter":
        state.names.pop(key, None)
        return
    peft_style_add = use.api.name == "add_adapter" and bool(use.call.args) and use.node is use.call.args[0]
    if not use.api.creates or not (receiver in state.models or peft_style_add):
        return
    if key in state.names:
        effects = hitting([use.api.creates], settings.supported)
        if effects:
            values = {"name": use.value, "receiver": receiver, "line": str(state.names[key]), "api": use.api.name}
            yield finding_at(REUSED, use.node, dict(values, effects=effects_text(effects)))
    else:
        state.models.add(receiver)
        state.names[key] = line


def _creates_peft_model(func: ast.expr) -> bool:
    """`get_peft_model(...)`, `PeftModel(...)`, `PeftModel.from_pretrained(...)`, `AutoPeftModel*.from_pretrained`."""
    if isinstance(func, ast.Attribute) and func.attr == "from_pretrained":
        func = func.value
    elif isinstance(func, ast.Name) and func.id == "get_peft_model":
        return True
    last = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return last in PEFT_MODEL_CLASSES or last.startswith("AutoPeftModel")


def _rule(code: str, name: str, *, hazards: tuple[Hazard, ...], check: Optional[Check] = None, **fields: Any) -> Rule:
    """A rule; without its own `check`, one of the single-name rules, fixed by an unsafe rename."""
    if check is None:
        return Rule(code, name, hazards=hazards, check=_check_single_names(hazards),
                    fix_applicability=Applicability.UNSAFE, fix_safety=RENAME_SAFETY, **fields)
    return Rule(code, name, hazards=hazards, check=check, fix_applicability=Applicability.NONE, fix_safety=NO_FIX,
                **fields)


INVALID = _rule(
    "PFT101",
    "invalid-adapter-name",
    summary="an adapter name PEFT rejects: empty, containing '.', or an nn.ModuleDict attribute",
    message="adapter name {name!r} {reason}: {effects}{where}",
    what_it_does=(
        "Finds adapter names that can never work: the empty string, names containing `.`, and names of "
        "attributes of `torch.nn.ModuleDict` (`train`, `keys`, `to`, ...), plus `copy`, `get`, `fromkeys`, "
        "`popitem` and `setdefault` for methods that keep `nn.ParameterDict`s (IA3, VeRA)."
    ),
    why_bad=(
        "PEFT stores each adapter's layers in `ModuleDict`s keyed by the adapter name, and torch rejects such "
        "keys: creating the adapter raises `KeyError` (`module name can't contain \".\"`, "
        "`attribute 'train' already exists`). transformers' `model.add_adapter(config, adapter_name=\"\")` does "
        "not raise: it silently uses `\"default\"` instead, so later calls with `\"\"` refer to nothing."
    ),
    example=(
        "from peft import LoraConfig, get_peft_model\n"
        "\n"
        'config = LoraConfig(target_modules=["q_proj", "v_proj"])\n'
        'model = get_peft_model(base_model, config, adapter_name="train")  # expect: PFT101@57\n'
    ),
    use_instead=(
        "from peft import LoraConfig, get_peft_model\n"
        "\n"
        'config = LoraConfig(target_modules=["q_proj", "v_proj"])\n'
        'model = get_peft_model(base_model, config, adapter_name="adapter_train")\n'
    ),
    hazards=(
        peft_facts.EMPTY_NAME,
        peft_facts.DOTTED_NAME,
        peft_facts.MODULE_DICT_ATTRIBUTE,
        peft_facts.PARAMETER_DICT_ATTRIBUTE,
    ),
)

INSIDE_PREFIX = _rule(
    "PFT102",
    "adapter-name-inside-prefix",
    summary="the name starts the method's parameter prefix (`lora` in `lora_`): peft#2252",
    message="adapter name {name!r} is inside {method}'s parameter prefix {prefix!r}: {effects}{where}",
    what_it_does=(
        "Finds adapter names that are the beginning of the PEFT method's parameter prefix, such as `lora` "
        "(or `lo`) for LoRA's `lora_`, `ia3` for IA3, `hada` for LoHa."
        + MODEL_CONFIG_NOTE
        + LATENT_NOTE
    ),
    why_bad=(
        "Up to peft 0.17.x, `get_peft_model_state_dict` removed `.<adapter name>` anywhere in a key, so "
        "`q_proj.lora_A.lora.weight` became `q_proj_A.weight`: `save_pretrained` wrote a checkpoint whose "
        "weights load nowhere, and the adapter comes back re-initialised (peft#2252). peft 0.15 and later "
        "warn about every name inside the prefix, including harmless ones such as `ora`; this rule reports "
        "only the names that lose weights."
    ),
    example=(
        "from peft import LoraConfig, get_peft_model\n"
        "\n"
        'ADAPTER_NAME = "lora"  # expect: PFT102@16\n'
        'model = get_peft_model(base_model, LoraConfig(), adapter_name=ADAPTER_NAME)  # expect: PFT102@63\n'
    ),
    use_instead=(
        "from peft import LoraConfig, get_peft_model\n"
        "\n"
        'ADAPTER_NAME = "adapter_lora"\n'
        "model = get_peft_model(base_model, LoraConfig(), adapter_name=ADAPTER_NAME)\n"
    ),
    hazards=(peft_facts.NAME_INSIDE_PREFIX,),
)

CONTAINS_PREFIX = _rule(
    "PFT103",
    "prefix-inside-adapter-name",
    summary="the method's parameter prefix is inside the name (`lora_adapter`), with modules_to_save",
    message="adapter name {name!r} contains {method}'s parameter prefix {prefix!r}: {effects}{where}",
    what_it_does=(
        "Finds adapter names that contain the PEFT method's parameter prefix (`lora_adapter`, `my_lora_`) in a "
        "file that trains `modules_to_save` modules (`modules_to_save=`, or a classification `task_type`, "
        "for which peft adds the head itself)."
        + MODEL_CONFIG_NOTE
        + LATENT_NOTE
    ),
    why_bad=(
        "Up to peft 0.20.x, PEFT tells adapter keys from `modules_to_save` keys by looking for the prefix, and "
        "an adapter name that contains it sends the `modules_to_save` weights the wrong way: they are lost on "
        "save and load, silently. Without `modules_to_save` such a name round-trips (measured in 0.17.1, 0.20.0 "
        "and 0.21.2), so it is not reported there."
    ),
    example=(
        "from peft import LoraConfig, PeftModel\n"
        "\n"
        'config = LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=["score"])\n'
        'model = PeftModel(base_model, config, adapter_name="lora_adapter")  # expect: PFT103@52\n'
    ),
    use_instead=(
        "from peft import LoraConfig, PeftModel\n"
        "\n"
        'config = LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=["score"])\n'
        'model = PeftModel(base_model, config, adapter_name="lora-adapter")\n'
    ),
    hazards=(peft_facts.PREFIX_INSIDE_NAME,),
)

KEY_COMPONENT = _rule(
    "PFT104",
    "adapter-name-is-key-component",
    summary="the name equals a state-dict key component (`weight`, `q_proj`, `head`, `mlp`, `0`, ...)",
    message="adapter name {name!r} is {kind}: {effects}{where}",
    what_it_does=(
        "Finds adapter names equal to a component of PEFT's state-dict keys: `weight`, `bias`, `model`, "
        "`modules_to_save`, the method's parameter names (`lora_A`, `ia3_l`, ...), the target modules "
        "(`target_modules=` in the same file, else common names such as `q_proj` and `lm_head`), the "
        "`modules_to_save` modules, and the components of the module path to an adapted module: `model`, "
        "`layers`, `self_attn`, `mlp` in Llama-style decoders, `encoder`, `layer`, `attention`, `self`, `output` "
        "in BERT, `h`, `attn` in GPT-2, `block`, `SelfAttention`, `DenseReluDense` in T5, `down_blocks`, "
        "`attentions`, `transformer_blocks`, `attn1` in diffusers UNets, and the layer indexes `0` to `11` of "
        "every stacked model. The architecture is read from the model classes the file names "
        "(`LlamaForCausalLM`, `AutoModelForCausalLM` (taken as Llama-style), `BertModel`, `GPT2LMHeadModel`, "
        "`T5ForConditionalGeneration`, `ViTModel`, `CLIPVisionModel`, `UNet2DConditionModel`, "
        "`StableDiffusionPipeline`, `FluxTransformer2DModel`, ...); where it names none, the components that "
        "are hazardous in at least two of these families are used (`layers`, `self_attn`, `encoder`, `layer`, "
        "`attention`, `self`, `attn`, `attn1`, `transformer_blocks`, ...). Only components above a module "
        "the file adapts count (`target_modules=`; without it, the family's usual attention targets; "
        "`all-linear` adapts them all), so `mlp` is reported only when an MLP module is adapted."
        + MODEL_CONFIG_NOTE
    ),
    why_bad=(
        "PEFT finds an adapter's tensors by looking for its name among the key components. Up to 0.17.x a "
        "name equal to a component is cut out of the keys on save; from 0.20.0 a second adapter named like "
        "a component strips or pollutes the checkpoints of the other adapters; `weight`/`bias` next to "
        "`modules_to_save` corrupt the saved `modules_to_save` weights in every version. peft finds "
        "`modules_to_save` modules with `str.endswith`, so a name equal to such a module, or ending in it "
        "(`adapter_head` next to `head`), wraps the adapter's own layers: `get_peft_model` raises (LoRA) or "
        "writes a corrupt checkpoint from 0.18.0, and reload raises `KeyError` before. `modules_to_save` itself "
        "makes `save_pretrained` raise `KeyError` from 0.20.0 when another adapter exists. A module-path "
        "component loses what lies below it: the adapter `mlp` on a Llama targeting `gate_proj`, `up_proj`, "
        "`down_proj` comes back with none of its MLP weights from 0.17.x, and from 0.20.0 a second adapter "
        "named `layers` leaves the first adapter's checkpoint empty, `1` strips all of layer 1 from it."
    ),
    example=(
        "from peft import LoraConfig, get_peft_model\n"
        "\n"
        'config = LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=["head"])\n'
        'model = get_peft_model(base_model, config, adapter_name="weight")  # expect: PFT104@57\n'
    ),
    use_instead=(
        "from peft import LoraConfig, get_peft_model\n"
        "\n"
        'config = LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=["head"])\n'
        'model = get_peft_model(base_model, config, adapter_name="adapter_weight")\n'
    ),
    hazards=(
        peft_facts.WEIGHT_OR_BIAS_WITH_MODULES_TO_SAVE,
        peft_facts.KEY_COMPONENT,
        peft_facts.MODULES_TO_SAVE_MODULE,
        peft_facts.MODULES_TO_SAVE_NAME,
        peft_facts.MODULE_PATH_COMPONENT,
    ),
)

KEY_PREFIX = _rule(
    "PFT105",
    "adapter-name-is-key-prefix",
    summary="the name starts a state-dict key component without being it (`q` of `q_proj`)",
    message="adapter name {name!r} starts the state-dict key component {component!r}: {effects}{where}",
    what_it_does=(
        "Finds adapter names that are the beginning of a key component: `q` (of `q_proj`), `head` of `heads`, "
        "`lm` of `lm_head`, and of the module-path components PFT104 lists: `s` or `self` of `self_attn`, `la` "
        "of `layers`."
        + MODEL_CONFIG_NOTE
        + LATENT_NOTE
    ),
    why_bad=(
        "Up to peft 0.17.x, saving removed `.<adapter name>` anywhere in a key, so the adapter `q` turns "
        "`model.q_proj.lora_A.q.weight` into `model_proj.lora_A.weight`: those weights are lost on reload."
    ),
    example=(
        "from peft import LoraConfig, get_peft_model\n"
        "\n"
        'config = LoraConfig(target_modules=["q_proj", "v_proj"])\n'
        'model = get_peft_model(base_model, config, adapter_name="q")  # expect: PFT105@57\n'
    ),
    use_instead=(
        "from peft import LoraConfig, get_peft_model\n"
        "\n"
        'config = LoraConfig(target_modules=["q_proj", "v_proj"])\n'
        'model = get_peft_model(base_model, config, adapter_name="adapter_q")\n'
    ),
    hazards=(peft_facts.KEY_COMPONENT_PREFIX,),
)

OVERLAPPING = _rule(
    "PFT106",
    "overlapping-adapter-names",
    summary="two adapter names on one model where one contains the other (`sft`, `sft2`)",
    message="adapter names {name!r} and {other!r} (line {line}) overlap, one contains the other: {effects}{where}",
    what_it_does=(
        "Finds pairs of adapter names that one model holds at the same time where one is a substring of the "
        "other, counting the implicit `default`. A model is followed through assignments, `.module` and "
        "`unwrap_model(...)`; a name deleted (`delete_adapter`) before the other is added, or given in a call "
        "inside `with pytest.raises(...)`, is not held. Names given to no model the code can follow are paired "
        "within their function. On a model that is never saved nor handed on while both names exist, the "
        "finding is latent, and the message says so. A model passed to a function of the same module is handed "
        "on only if that function may keep it (saves it, returns it, stores it or passes it on); one that only "
        "runs or evaluates it does not."
    ),
    why_bad=(
        "Up to peft 0.17.x, saving one adapter selected every key that contained its name, so the checkpoint "
        "of `sft` also takes the tensors of `sft2`, under mangled keys (`q_proj.lora_A2.weight`). Reload "
        "ignores them today, but the checkpoint is not what it claims to be, and any tool that reads it as "
        "one adapter's weights gets the wrong tensors."
    ),
    example=(
        "from peft import PeftModel\n"
        "\n"
        'model = PeftModel.from_pretrained(base_model, "out/sft", adapter_name="sft")\n'
        'model.load_adapter("out/sft2", adapter_name="sft2")  # expect: PFT106@45\n'
    ),
    use_instead=(
        "from peft import PeftModel\n"
        "\n"
        'model = PeftModel.from_pretrained(base_model, "out/sft", adapter_name="sft")\n'
        'model.load_adapter("out/dpo", adapter_name="dpo")\n'
    ),
    hazards=(peft_facts.OVERLAPPING_NAMES,),
    check=_check_overlaps,
)

REUSED = _rule(
    "PFT107",
    "reused-adapter-name",
    summary="`load_adapter`/`add_adapter` on a peft model with a name it already has",
    message="{api} with adapter name {name!r}, already used on {receiver} at line {line}: {effects}",
    what_it_does=(
        "Finds `load_adapter` and peft's `add_adapter(name, config)` on a `PeftModel` with an adapter name "
        "that the same model already has, earlier in the same function or module body (including the "
        "implicit `default` of `get_peft_model` and `PeftModel.from_pretrained`). A call inside "
        "`with pytest.raises(...)` is expected to fail and registers no name."
    ),
    why_bad=(
        "`PeftModel.load_adapter` loads into the existing adapter without a word, so the earlier weights are "
        "gone; `PeftModel.add_adapter` re-initialises it up to 0.20.x (0.21 raises `ValueError`). "
        "transformers' and diffusers' own `load_adapter`/`add_adapter`/`load_lora_weights` raise on a used "
        "name, so only peft models are checked."
    ),
    example=(
        "from peft import PeftModel\n"
        "\n"
        'model = PeftModel.from_pretrained(base_model, "out/sft")\n'
        'model.load_adapter("out/dpo", adapter_name="default")  # expect: PFT107@44\n'
    ),
    use_instead=(
        "from peft import PeftModel\n"
        "\n"
        'model = PeftModel.from_pretrained(base_model, "out/sft")\n'
        'model.load_adapter("out/dpo", adapter_name="dpo")\n'
    ),
    hazards=(peft_facts.RELOADED_NAME, peft_facts.RE_ADDED_NAME),
    check=_check_reuse,
)

# Hazards whose loss happens when the model is saved: latent on a model the code never saves.
SAVE_HAZARDS = frozenset(
    {peft_facts.NAME_INSIDE_PREFIX, peft_facts.PREFIX_INSIDE_NAME, peft_facts.KEY_COMPONENT_PREFIX}
)
ADAPTER_NAME_RULES = (INVALID, INSIDE_PREFIX, CONTAINS_PREFIX, KEY_COMPONENT, KEY_PREFIX, OVERLAPPING, REUSED)
# The rule that reports a hazard, read from the rules' own hazard lists (a name's Problem names its hazard).
RULE_OF_HAZARD: dict[Hazard, Rule] = {hazard: rule for rule in ADAPTER_NAME_RULES for hazard in rule.hazards}
