"""PFT2xx: adapter checkpoints written, read or built by hand instead of with PEFT's own functions."""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Iterator, Optional

from ..module_facts import ModuleFacts, Scope, call_argument, called_name
from .. import peft_facts
from ..rule import Applicability, Finding, Fix, ReplaceExpression, Rule, effects_text, hitting, finding_at
from ..settings import Settings
from ..model_adapters import adapter_argument, adapter_of
from ..state_dict.checkpoints import callers_flows, checkpoint_uses
from ..state_dict.context import has_modules_to_save, imports_peft, peft_in_use, skipped_module
from ..state_dict.filtered import Filtered, Form
from ..state_dict.flows import Flows
from ..state_dict.models import loaded_for_inference, verbatim
from ..state_dict.values import MODEL_KINDS, Kind, Via
from ..state_dict.view import StateDicts, state_dicts

GET = "get_peft_model_state_dict"
SET = "set_peft_model_state_dict"


def _in_order(items):
    return sorted(items, key=lambda f: (f.node.lineno, f.node.col_offset))


# ---------------------------------------------------------------------------------------------
# PFT201


def _manual_fix(
    facts: ModuleFacts, item: Filtered, flows: Flows, prefixes: frozenset[str], peft: bool
) -> tuple[Fix, str]:
    """Unsafe where the model and its adapter are plain from the code (the adapter name bound to that model
    in this module, or named by the filter), the module uses peft, and nothing in it reads the hand-made
    format back; else only shown, saying why."""
    source = item.iteration.walked
    model = source.model
    needles = item.needles
    needle = needles[0].needle if len(needles) == 1 else None
    shown = f"{GET}({model.text if model else UNNAMED_MODEL}, adapter_name=...)"
    if not peft:
        return _shown(shown, f"not applied, {NOT_PEFT}; with peft, build it with"), shown
    if not (model is not None and model.verbatim and item.simple and needle is not None):
        return _shown(shown, "build it with"), shown
    if needle.adapter is not None:
        adapter = f", adapter_name={needle.adapter}"
    elif needle.bare_prefix and (needle.marker or "").strip(".") in prefixes:
        use = adapter_of(facts, model.text)
        if use is None:
            return _shown(shown, f"not applied, the adapter of {model.text} is not known here; build it with"), shown
        adapter = adapter_argument(facts, use)
    else:
        return _shown(shown, "build it with"), shown
    replacement = f"{GET}({model.text}{adapter})"
    blocker = _blocker(facts, flows)
    if blocker is not None:
        return _shown(replacement, f"not applied, {blocker}; change both by hand to"), replacement
    described = f"replace with {replacement}{_importing(facts, GET)}"
    return Fix(Applicability.UNSAFE, ReplaceExpression(replacement, (GET,)), described), replacement


# The model a collection comes from when the code does not name it (a helper that receives `named_params`).
UNNAMED_MODEL = "<the model>"
NOT_PEFT = "the module does not use peft (no peft import or PEFT API), so no peft call is added"


def _importing(facts: ModuleFacts, name: str) -> str:
    """What the fix adds beyond the line shown: the import, unless the module has it."""
    return "" if facts.imports.get(name, "").startswith("peft") else f", and import {name} from peft"


def _shown(replacement: str, what: str) -> Fix:
    return Fix(Applicability.DISPLAY_ONLY, ReplaceExpression(replacement, (GET,)), f"{what} {replacement}")


def _blocker(facts: ModuleFacts, flows: Flows) -> Optional[str]:
    """Why changing this dict to PEFT's format would break the module: it does not use peft, or a reader in
    it (load_state_dict, directly or from a file) expects the hand-made keys."""
    for call, _ in flows.calls:
        if called_name(call.func) == "load_state_dict":
            return f"line {call.lineno} loads it with load_state_dict, which expects these keys"
    for call, scope in facts.calls:
        if called_name(call.func) == "load_state_dict" and _not_strict(facts, call, scope):
            state = call_argument(call, 0, "state_dict")
            if state is not None and _read_from_file(state):
                return f"line {call.lineno} reads a saved file back with load_state_dict, which expects these keys"
    return None


def _read_from_file(state: ast.expr) -> bool:
    """`torch.load(path)`, `load_file(path)` and the like, written in the call."""
    return isinstance(state, ast.Call) and called_name(state.func) in ("load", "load_file")


def _check_manual(facts: ModuleFacts, settings: Settings) -> Iterator[Finding]:
    if not hitting(MANUAL.hazards, settings.supported) or skipped_module(facts):
        return
    if not imports_peft(facts) and facts.across is None:
        return  # without peft in the module, hand-filtered LoRA keys are no PEFT mistake (a fix's import would fail)
    if not (facts.comprehensions or facts.loops or any(called_name(c.func) == "filter" for c, _ in facts.calls)):
        return
    groups: dict[tuple[int, str], list[Finding]] = {}
    for key, finding in _manual_findings(facts, settings):
        groups.setdefault(key, []).append(finding)
    for found in groups.values():
        same = [f for f in found[1:] if f.message == found[0].message]
        applied = any(f.fix is not None and f.fix.applicability is not Applicability.DISPLAY_ONLY for f in found)
        if len(same) < len(found) - 1 or applied:
            yield from found  # different problems, or fixes that each must apply
            continue
        first = found[0]
        if same:
            lines = ", ".join(str(f.line) for f in same)
            plural = "s" * (len(same) > 1)
            first = replace(first, message=f"{first.message}; the same dict is built on line{plural} {lines}")
        yield first


def _manual_findings(facts: ModuleFacts, settings: Settings) -> Iterator[tuple[tuple[int, str], Finding]]:
    """Each PFT201 finding with the value it builds (the branches of a helper that build the same `to_return`
    share one)."""
    sources = state_dicts(facts)
    own_peft = imports_peft(facts)
    for use in checkpoint_uses(facts, sources):
        item = use.item
        if not (own_peft or any(imports_peft(m) for m in use.context)):
            continue  # no module it is judged with uses peft (the project pass: as if they were one file)
        modules_to_save = any(has_modules_to_save(m) for m in (facts, *use.context))
        via = "named_parameters()" if item.iteration.walked.kind is Kind.NAMED_PARAMS else "a model's state_dict()"
        if use.prefilter:  # PEFT renames the keys; what goes wrong is only the missing modules_to_save
            effects = effects_text(hitting([peft_facts.PREFILTER_WITHOUT_MODULES_TO_SAVE], settings.supported))
            problem = f"{PREFILTER_PROBLEM}: {effects}" if effects else PREFILTER_PROBLEM
            if not modules_to_save:
                problem += f" ({LATENT_MODULES_TO_SAVE})"
            values = {"source": via, "problem": problem, "replacement": PREFILTER_ADVICE}
            yield use.built, _noted(finding_at(MANUAL, item.node, values), use.via)
            continue
        peft = peft_in_use(facts) or any(imports_peft(m) for m in use.context)
        fix, replacement = _manual_fix(facts, item, use.flows, _method_prefixes(facts, settings), peft)
        if use.via is not None and fix.applicability is not Applicability.DISPLAY_ONLY:
            why = "not applied, its use as a checkpoint is known only through other modules; build it with"
            fix = _shown(replacement, why)  # the callers elsewhere read what it writes: change it by hand
        problem = RESTORE_PROBLEM if use.restored else MANUAL_PROBLEM if modules_to_save else MANUAL_LATENT
        values = {"source": via, "problem": problem, "replacement": replacement}
        yield use.built, _noted(finding_at(MANUAL, item.node, values, fix), use.via)


def _noted(finding: Finding, via: Optional[Via]) -> Finding:
    """A finding made through other modules of the project names them (`called with model.state_dict() from
    scripts/merge.py:9`), as the project pass's adapter-name findings do."""
    return finding if via is None else replace(finding, message=f"{finding.message}; {via.note}")


def _method_prefixes(facts: ModuleFacts, settings: Settings) -> frozenset[str]:
    methods = settings.methods or facts.methods
    return frozenset(p for m in methods for p in (m.prefix, m.prefix.rstrip("_")))


MANUAL_PROBLEM = "keys keep the adapter name, miss modules_to_save and take in other adapters' tensors"
MANUAL_LATENT = (
    "keys keep the adapter name and take in other adapters' tensors, and it would miss modules_to_save (none set "
    "here yet)"
)
RESTORE_PROBLEM = "restored into its own model it leaves modules_to_save as they are (a config here sets them)"
PREFILTER_PROBLEM = "as a pre-filter for save_pretrained(state_dict=...) it leaves out modules_to_save"
LATENT_MODULES_TO_SAVE = "latent: no config here sets modules_to_save yet"
PREFILTER_ADVICE = 'a filter that keeps "modules_to_save" keys too'


# ---------------------------------------------------------------------------------------------
# PFT202


def _check_requires_grad(facts: ModuleFacts, settings: Settings) -> Iterator[Finding]:
    if not hitting(REQUIRES_GRAD.hazards, settings.supported) or not (facts.comprehensions or facts.loops):
        return
    sources = state_dicts(facts)
    candidates = [
        i for i in sources.filtered if i.grad and not i.needles and i.form in (Form.DICT, Form.LOOP, Form.PAIRS)
    ]
    if not candidates or skipped_module(facts):
        return
    own_peft = peft_in_use(facts)
    for item in _in_order(candidates):
        via = item.iteration.walked.via
        if not (own_peft or (via is not None and any(imports_peft(m) for m in via.modules))):
            continue  # no peft in the module (nor, with the project pass, in the modules that tell its source)
        flows = sources.flows(item)
        every = [flows, *callers_flows(sources, flows)]
        if not any(f.saved(pre_filters=False) for f in every) and not any(
            loaded_for_inference(facts, call.func.value, scope)  # type: ignore[attr-defined]
            for f in every
            for call, scope in f.pretrained
            if isinstance(call.func, ast.Attribute)
        ):
            continue  # save_pretrained(state_dict=...) picks the adapter out of a trainable model's parameters
        model = item.iteration.walked.model
        shown = f"{GET}({model.text if model else UNNAMED_MODEL})"
        fix = Fix(Applicability.DISPLAY_ONLY, ReplaceExpression(shown, (GET,)), f"build it with {shown}")
        yield _noted(finding_at(REQUIRES_GRAD, item.node, {"replacement": shown}, fix), via)


# ---------------------------------------------------------------------------------------------
# PFT203


def _check_load_state_dict(facts: ModuleFacts, settings: Settings) -> Iterator[Finding]:
    calls = [
        (call, scope)
        for call, scope in facts.calls
        if isinstance(call.func, ast.Attribute)
        and call.func.attr == "load_state_dict"
        and _not_strict(facts, call, scope)
    ]
    if not calls or skipped_module(facts):
        return
    peft_format = hitting([peft_facts.PEFT_DICT_IN_LOAD_STATE_DICT], settings.supported)
    manual = hitting([peft_facts.MANUAL_DICT_IN_LOAD_STATE_DICT], settings.supported)
    sources = state_dicts(facts)
    for call, scope in calls:
        state = call_argument(call, 0, "state_dict")
        if state is None:
            continue
        source = sources.classify(state, scope)
        if source is None:
            continue
        receiver = ast.unparse(call.func.value)  # type: ignore[attr-defined]
        if source.kind in (Kind.PEFT_STATE, Kind.ADAPTER_FILE) and peft_format:
            what = "PEFT's checkpoint format" if source.kind is Kind.PEFT_STATE else "an adapter_model checkpoint"
            exact = verbatim(call.func.value) and verbatim(state)  # type: ignore[attr-defined]
            fix = _set_fix(facts, receiver, state, exact)
            values = {
                "what": what,
                "consequence": "its keys have no adapter name, so nothing loads",
                "receiver": receiver,
            }
            yield finding_at(LOAD, call, values, fix)
        elif source.kind is Kind.MANUAL and manual:
            context = (facts, *(source.via.modules if source.via is not None else ()))
            restores_own = source.model is not None and source.model.text == receiver
            if restores_own and not any(map(has_modules_to_save, context)):
                continue  # an in-memory copy loaded back into the model it was taken from: it round-trips
            shown = f"{SET}({receiver}, {GET}(...))"
            fix = Fix(
                Applicability.DISPLAY_ONLY,
                ReplaceExpression(shown, (SET, GET)),
                "save with get_peft_model_state_dict, load with set_peft_model_state_dict",
            )
            values = {
                "what": "a dict filtered by an adapter key marker",
                "consequence": "modules_to_save are not restored and it fits only the adapter name in its keys",
                "receiver": receiver,
            }
            yield _noted(finding_at(LOAD, call, values, fix), source.via)


def _set_fix(facts: ModuleFacts, receiver: str, state: ast.expr, exact: bool) -> Fix:
    """Unsafe with the adapter name the receiver has in this module; only shown when it is not known, the
    expressions are not plain, or the module does not use peft."""
    use = adapter_of(facts, receiver)
    adapter = adapter_argument(facts, use) if use is not None else ", adapter_name=..."
    replacement = f"{SET}({receiver}, {ast.unparse(state)}{adapter})"
    intent = ReplaceExpression(replacement, (SET,))
    if not peft_in_use(facts):
        why = f"not applied, {NOT_PEFT}; with peft, load it with"
        return Fix(Applicability.DISPLAY_ONLY, intent, f"{why} {replacement}")
    if use is None:
        why = f"not applied, the adapter of {receiver} is not known here; load it with"
        return Fix(Applicability.DISPLAY_ONLY, intent, f"{why} {replacement}")
    if not exact:
        return Fix(Applicability.DISPLAY_ONLY, intent, f"load it with {replacement}")
    return Fix(Applicability.UNSAFE, intent, f"replace with {replacement}{_importing(facts, SET)}")


def _not_strict(facts: ModuleFacts, call: ast.Call, scope: Scope) -> bool:
    """`strict=False`, given as a literal or a variable statically bound to one (`strict = False`)."""
    strict = call_argument(call, 1, "strict")
    return strict is not None and facts.resolve_bool(strict, scope) is False


# ---------------------------------------------------------------------------------------------
# PFT204

# Writers: called name -> (position of the object, its keywords, position of the path, its keywords)
_WRITERS = {
    "save": (0, ("obj",), 1, ("f",)),
    "save_file": (0, ("tensors",), 1, ("filename",)),
    "save_model": (0, ("model",), 1, ("filename",)),
}
_WHAT = {
    Kind.MODEL_STATE: "a model's state_dict()",
    Kind.NAMED_PARAMS: "named_parameters()",
    Kind.MANUAL: "a dict filtered by an adapter key marker",
    Kind.GRAD: "the parameters with requires_grad",
}


def _check_adapter_file(facts: ModuleFacts, settings: Settings) -> Iterator[Finding]:
    hits = hitting(ADAPTER_FILE.hazards, settings.supported)
    if not hits:
        return
    # What loading it does in the supported versions only: under peft>=0.21 it never "loads nothing".
    effects = effects_text([e for e in hits if e.affected.ranges != ("",)] or hits)
    calls = [(call, scope) for call, scope in facts.calls if called_name(call.func) in _WRITERS]
    if not calls:
        return
    sources: Optional[StateDicts] = None
    for call, scope in calls:
        name = called_name(call.func)
        assert name is not None
        obj_position, obj_keywords, path_position, path_keywords = _WRITERS[name]
        if name == "save" and not _is_torch_like_save(facts, call):
            continue
        if name == "save_model" and not (facts.origin(call.func) or "").startswith("safetensors"):
            continue  # Trainer.save_model(output_dir), accelerator.save_model(model, directory)
        path = call_argument(call, path_position, *path_keywords)
        obj = call_argument(call, obj_position, *obj_keywords)
        if path is None or obj is None:
            continue
        sources = sources or state_dicts(facts)
        file_name = sources.adapter_file(path, scope)
        if file_name is None:
            continue
        what = _written(sources, name, obj, scope)
        if what is None:
            continue
        shown = "model.save_pretrained(output_dir)"
        fix = Fix(Applicability.DISPLAY_ONLY, ReplaceExpression(shown), f"save the adapter with {shown}")
        found = finding_at(ADAPTER_FILE, path, {"file": file_name, "what": what, "effects": effects}, fix)
        yield _noted(found, _via(sources, obj, scope))


def _written(sources: StateDicts, writer: str, obj: ast.expr, scope: Scope) -> Optional[str]:
    if writer == "save_model":  # safetensors.torch.save_model(model, filename): the whole model
        found = sources.classify(obj, scope)
        if found is not None:
            return _WHAT.get(found.kind)
        return "a whole model"
    found = sources.classify(obj, scope)
    if found is None or found.kind not in (*MODEL_KINDS, Kind.MANUAL, Kind.GRAD):
        return None
    return _WHAT[found.kind]


def _via(sources: StateDicts, obj: ast.expr, scope: Scope) -> Optional[Via]:
    found = sources.classify(obj, scope)
    return found.via if found is not None else None


def _is_torch_like_save(facts: ModuleFacts, call: ast.Call) -> bool:
    """`torch.save`, `accelerator.save`, `xm.save`, ...; not `np.save`, `json`, `pickle`."""
    origin = facts.origin(call.func)
    if origin is not None:
        return origin.split(".")[0] in ("torch", "accelerate", "torch_xla", "safetensors")
    return isinstance(call.func, ast.Attribute)


# ---------------------------------------------------------------------------------------------
# The rules

FILTER_FIX_SAFETY = (
    "Unsafe, offered only where the model and its adapter are plain from the code: the receiver of "
    "`.state_dict()`/`.named_parameters()`, and the adapter the filter names, or for a bare method prefix such "
    'as `"lora"` the one adapter name the same file gives that model (`adapter_name="sft"` is passed on; '
    "`default` needs none). The replacement writes PEFT's checkpoint format, whose keys have no adapter name "
    "and include `modules_to_save`. It is only shown when the adapter is not known, when the module does not "
    "use peft (its own LoRA), or when the module reads the hand-made dict back with `load_state_dict` (a file "
    "saved and resumed in the same script): changing one side of that pair would load nothing."
)

MANUAL = Rule(
    "PFT201",
    "manual-adapter-state-dict",
    summary="an adapter state dict built by filtering a model's state_dict()/named_parameters() by key",
    message="adapter state dict filtered by key from {source}: {problem}; use {replacement}",
    what_it_does=(
        "Finds adapter state dicts written by hand: a dict, list or set comprehension, `dict(...)` over a "
        "generator, `filter(lambda ...)`, a `for` loop filling a dict (`d[k] = v`, `d.update({k: v})`) or one "
        "deleting the other entries from a model's dict (`for k in list(sd): if ... : del sd[k]`, "
        "`sd.pop(k)`), that keeps the entries of a model's "
        '`state_dict()` or `named_parameters()` whose key holds a PEFT marker (`"lora"`, `"lora_"`, '
        '`"lora_A"`, `"ia3_"`, `"hada_"`, ...) or an adapter name, tested with `in`, `startswith`, '
        "`endswith`, `find`, `split` or `re.search`/`match`/`fullmatch`. The source may be a variable "
        "(`unwrap_model(model).state_dict()`, `accelerator.get_state_dict(model)`), a helper's parameter called "
        "`named_params`, or one that callers in the module pass a model's state dict (the ZeRO-3 helper "
        "`get_peft_state_maybe_zero_3(model.named_parameters(), bias)`). A dict handed to "
        "`save_pretrained(..., state_dict=...)` or `Trainer._save`, directly or through a loop that copies it (an "
        "FSDP gather), is a pre-filter PEFT finishes itself; it is reported only when it drops `modules_to_save` "
        "and the module does not refuse configs that have them (`if config.modules_to_save: raise ...`). Not "
        "reported: complement filters (`not in`, or deleting the adapters' own entries), values computed from "
        "the parameters (`p.grad`, `p.shape`), "
        "filters that keep an entry whatever its key under some condition (`or not adapters_only`, "
        "`or id(v) in embeddings`), filters that pick only `modules_to_save` copies, sets or lists of key names "
        "kept for a check (`missing_keys.remove(key)`), dicts that are not a model's (loaded files, configs, "
        "LoRA converters), a pre-filter handed to `get_peft_model_state_dict(model, state_dict=...)`, filters only "
        "counted or printed (or looped over only to print each entry), modules that define their own "
        "`get_peft_model_state_dict` (PFT205 reports their substring tests of an adapter name), and modules that use "
        "another LoRA library (loralib, their own LoRA layers) instead of peft, or do not import peft at all. "
        "Only a collection used as a checkpoint is reported: saved (`torch.save`, `save_file`, a call whose name "
        "says it saves or checkpoints, each entry in a loop), loaded into a model (`load_state_dict`, "
        "`set_peft_model_state_dict`), handed to `save_pretrained(state_dict=...)`, appended to a list that is, or "
        "returned from a function (followed into the callers in the module when there are any). So snapshots "
        "only looked at where they are taken (the LoRA weights taken before training to assert they changed), "
        "selections handed to other calls (an optimizer's parameter groups, gradient clipping) and copies put "
        "into a container from elsewhere are not. A copy loaded back into the model it was taken from (a best "
        "epoch, an EMA) round-trips and is reported only when a config in the module sets `modules_to_save`, "
        "which the key filter leaves behind; where no config in the module sets them, the message says that "
        "hazard is latent. Branches that build the same variable or return value (a helper's `if bias == ...` "
        "arms) give one finding that names the other lines. A needle that cannot be resolved statically is "
        "never guessed."
    ),
    why_bad=(
        "Such a dict holds PEFT's in-memory layout, not its checkpoint format: every key keeps the adapter "
        'name (`q_proj.lora_A.default.weight` where PEFT saves `q_proj.lora_A.weight`); a `"lora"` filter '
        "leaves out `modules_to_save` and trainable-token deltas and takes in the tensors of every other "
        "adapter (and of other methods whose names contain `lora`); an adapter-name filter also matches every "
        "adapter whose name contains it. Reloading it with `set_peft_model_state_dict` or "
        "`PeftModel.from_pretrained` raises `KeyError: 'base_model.model.head.weight'` when the model has "
        "`modules_to_save` (older peft loses every weight silently), and without `modules_to_save` it loads "
        "nothing before peft 0.21. As a pre-filter for `save_pretrained(state_dict=...)` (the LLaVA ZeRO-3 "
        "helper), a filter without `modules_to_save` makes saving raise `KeyError` from peft 0.15.1 (0.13 and "
        "0.14 save without them, silently)."
    ),
    example=(
        "import torch\n"
        "from peft import LoraConfig, get_peft_model\n"
        "\n"
        'config = LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=["head"])\n'
        "model = get_peft_model(base_model, config)\n"
        'lora_state = {k: v for k, v in model.state_dict().items() if "lora" in k}  # expect: PFT201@14\n'
        'torch.save(lora_state, "lora.pt")\n'
    ),
    use_instead=(
        "import torch\n"
        "from peft import LoraConfig, get_peft_model, get_peft_model_state_dict\n"
        "\n"
        'config = LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=["head"])\n'
        "model = get_peft_model(base_model, config)\n"
        'lora_state = get_peft_model_state_dict(model, adapter_name="default")\n'
        'torch.save(lora_state, "lora.pt")\n'
    ),
    fix_applicability=Applicability.UNSAFE,
    fix_safety=FILTER_FIX_SAFETY,
    hazards=(peft_facts.MANUAL_STATE_DICT, peft_facts.PREFILTER_WITHOUT_MODULES_TO_SAVE),
    check=_check_manual,
)

REQUIRES_GRAD = Rule(
    "PFT202",
    "requires-grad-adapter-checkpoint",
    summary="an adapter checkpoint built from the parameters with requires_grad, then saved",
    message=(
        "checkpoint built from the parameters with requires_grad: holds no adapter weight for a model loaded "
        "for inference, and its keys keep the adapter name; use {replacement}"
    ),
    what_it_does=(
        "Finds a dict of a model's parameters filtered by `requires_grad` (a comprehension or a `for` loop) "
        "that is then saved: passed to `torch.save` or `safetensors.torch.save_file`, or returned from a function "
        "whose name says it saves or builds a state dict. Handed to `save_pretrained(..., state_dict=...)` it is a "
        "pre-filter PEFT picks the adapter out of, reported only for a model loaded for inference "
        "(`PeftModel.from_pretrained` without `is_trainable=True`), where it is empty. Only in modules that use "
        "peft. A `requires_grad` filter used to count, print or set parameters is not reported."
    ),
    why_bad=(
        "Which parameters require grad says how the model was loaded, not what the adapter is. For a model "
        "loaded for inference (`PeftModel.from_pretrained(..., is_trainable=False)`, the default) the dict "
        "holds no LoRA weight at all, and from peft 0.18 it is empty (before, `modules_to_save` stayed "
        "trainable and were its only entries). Its keys keep the adapter name and PEFT's in-memory layout, "
        "so `set_peft_model_state_dict` and `PeftModel.from_pretrained` cannot read it back either."
    ),
    example=(
        "import torch\n"
        "from peft import PeftModel\n"
        "\n"
        'model = PeftModel.from_pretrained(base_model, "out/adapter")\n'
        "trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}  # expect: PFT202@13\n"
        'torch.save(trainable, "trainable.pt")\n'
    ),
    use_instead=(
        "import torch\n"
        "from peft import PeftModel, get_peft_model_state_dict\n"
        "\n"
        'model = PeftModel.from_pretrained(base_model, "out/adapter")\n'
        "trainable = get_peft_model_state_dict(model)\n"
        'torch.save(trainable, "trainable.pt")\n'
    ),
    fix_applicability=Applicability.DISPLAY_ONLY,
    fix_safety=(
        "Display only: `get_peft_model_state_dict(model)` is shown as the replacement, but whether the code "
        "also meant to save other trainable parameters (a projector, a value head) is the user's call."
    ),
    hazards=(peft_facts.REQUIRES_GRAD_CHECKPOINT,),
    check=_check_requires_grad,
)

LOAD = Rule(
    "PFT203",
    "peft-state-dict-in-load-state-dict",
    summary="a model's load_state_dict(..., strict=False) given PEFT's checkpoint format or a hand-filtered dict",
    message=(
        "load_state_dict(..., strict=False) of {what}: {consequence}, silently; use "
        "set_peft_model_state_dict({receiver}, ..., adapter_name=...) or PeftModel.from_pretrained/load_adapter"
    ),
    what_it_does=(
        "Finds `X.load_state_dict(sd, strict=False)` where `sd` comes from `get_peft_model_state_dict`, "
        "`load_peft_weights`, a file named `adapter_model.safetensors`/`adapter_model.bin` (`load_file`, "
        "`torch.load`, `safe_open`; a local path, or one `hf_hub_download` fetched), or a dict filtered by hand "
        "by an adapter key marker (PFT201). `strict=False` may be written as a literal or a variable every "
        "binding of which is `False` (`strict = False`); a parameter (even with a default) or a command-line "
        "option is only known at run time and is not reported. A hand-filtered copy loaded back into the model "
        "it was taken from (a best epoch, an EMA) has that model's keys and is reported only when a config in "
        "the module sets `modules_to_save`, which the filter leaves behind."
    ),
    why_bad=(
        "PEFT's checkpoint format has no adapter names in its keys (`q_proj.lora_A.weight`), while the model's "
        "parameters have them (`q_proj.lora_A.default.weight`): with `strict=False` every key is merely "
        '"unexpected", so nothing loads and nothing says so. A hand-filtered dict loads only under the adapter '
        'name baked into its keys, and a `"lora"` filter never restores `modules_to_save`. '
        "`set_peft_model_state_dict` inserts the adapter name and maps `modules_to_save`."
    ),
    example=(
        "from peft import get_peft_model, get_peft_model_state_dict\n"
        "\n"
        "model = get_peft_model(base_model, config)\n"
        "state = get_peft_model_state_dict(model)\n"
        "model.load_state_dict(state, strict=False)  # expect: PFT203@1\n"
    ),
    use_instead=(
        "from peft import get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict\n"
        "\n"
        "model = get_peft_model(base_model, config)\n"
        "state = get_peft_model_state_dict(model)\n"
        "set_peft_model_state_dict(model, state)\n"
    ),
    fix_applicability=Applicability.UNSAFE,
    fix_safety=(
        "Unsafe: `X.load_state_dict(sd, strict=False)` becomes `set_peft_model_state_dict(X, sd)`, with "
        "`adapter_name=` the one adapter name the same file gives `X` (none for `default`). It is only shown "
        "when `X`'s adapter is not known, when the expressions are not plain names, or when the module does "
        "not use peft. For a hand-filtered dict the fix is only shown, because its keys must be written with "
        "`get_peft_model_state_dict` first."
    ),
    hazards=(peft_facts.PEFT_DICT_IN_LOAD_STATE_DICT, peft_facts.MANUAL_DICT_IN_LOAD_STATE_DICT),
    check=_check_load_state_dict,
)

ADAPTER_FILE = Rule(
    "PFT204",
    "hand-written-adapter-checkpoint-file",
    summary="an adapter_model.safetensors/.bin written from a dict that get_peft_model_state_dict did not make",
    message=(
        "{file} written from {what}: {effects}; "
        "use model.save_pretrained(...) or save get_peft_model_state_dict(model)"
    ),
    what_it_does=(
        "Finds `torch.save`, `safetensors.torch.save_file` or `save_model` writing a model's `state_dict()`, "
        "its `named_parameters()`, a dict filtered by an adapter key marker or by `requires_grad`, to a file "
        "named `adapter_model.safetensors` or `adapter_model.bin` (a literal path, `os.path.join`, an f-string, "
        "`str.format` or `%` with the file name known statically, `Path / ...`, or peft's "
        "`SAFETENSORS_WEIGHTS_NAME`/`WEIGHTS_NAME`). A dict from "
        "`get_peft_model_state_dict` or a loaded adapter file, or one whose origin is unknown, is not reported."
    ),
    why_bad=(
        "`PeftModel.from_pretrained` and `load_adapter` read that file as PEFT's checkpoint format, whose keys "
        "have no adapter name. A model's own keys (`q_proj.lora_A.default.weight`, "
        "`head.modules_to_save.default.weight`) do not match it: from peft 0.15 loading raises "
        "`KeyError: 'base_model.model.head.weight'` when the model has `modules_to_save` (earlier versions lose "
        "every weight silently), and without `modules_to_save` nothing loads before peft 0.21."
    ),
    example=(
        "import os\n"
        "\n"
        "import torch\n"
        "\n"
        'torch.save(model.state_dict(), os.path.join(output_dir, "adapter_model.bin"))  # expect: PFT204@32\n'
    ),
    use_instead=(
        "import os\n"
        "\n"
        "import torch\n"
        "from peft import get_peft_model_state_dict\n"
        "\n"
        "model.save_pretrained(output_dir)\n"
        'torch.save(get_peft_model_state_dict(model), os.path.join(output_dir, "adapter_model.bin"))\n'
    ),
    fix_applicability=Applicability.DISPLAY_ONLY,
    fix_safety=(
        "Display only: `model.save_pretrained(output_dir)` also writes `adapter_config.json` and picks the "
        "format itself, so the call is not rewritten automatically."
    ),
    hazards=(peft_facts.HAND_WRITTEN_ADAPTER_FILE,),
    check=_check_adapter_file,
)

STATE_DICT_RULES = (MANUAL, REQUIRES_GRAD, LOAD, ADAPTER_FILE)
