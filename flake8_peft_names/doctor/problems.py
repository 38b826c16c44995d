"""The problems the doctor reports: what each one means, which peft versions produce it, and what loading
such a checkpoint does today. Measured in tests/runtime/test_doctor.py (peft 0.17.1, 0.20.0, 0.21.2) and in
/work/shared/peft-runtime-facts.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SHOWN_KEYS = 3  # keys shown in a message


@dataclass(frozen=True)
class Problem:
    code: str
    slug: str
    title: str
    cause: str
    versions: str
    loading: str


_LOST = "PeftModel.from_pretrained does not load these tensors: they keep their initial values (LoRA's B is 0)"
PROBLEMS = {
    p.slug: p
    for p in (
        Problem(
            "PFD101",
            "empty-checkpoint",
            "the weights file holds no tensor",
            "a second adapter named like a key component (`weight`, `lora_A`, a target module) made "
            "save_pretrained drop every key of this one; or a `requires_grad` filter on a model loaded for "
            "inference; or a hand-written filter that matched nothing",
            "peft>=0.20 (second adapter named like a key component); every peft (hand-written dicts)",
            "PeftModel.from_pretrained loads nothing and raises nothing: the adapter keeps its initialisation",
        ),
        Problem(
            "PFD102",
            "mangled-keys",
            "keys lost a piece that spelled the adapter name",
            "save_pretrained removed `.{name}` from everywhere in every key (peft#2252), so an adapter name "
            "that begins a key component (`lora` in `lora_A`, `q` in `q_proj`, `weight`, `model`) cut it; and "
            "every peft strips a trailing `.{name}` from modules_to_save keys (`head.weight` becomes `head` "
            "for an adapter named `weight`, which also breaks loading it under that name)",
            "peft<0.18 (every key); every peft (modules_to_save keys of an adapter named `weight` or `bias`)",
            _LOST + "; peft only warns about missing adapter keys",
        ),
        Problem(
            "PFD103",
            "adapter-name-in-keys",
            "keys hold an adapter name: PEFT's in-memory layout, not its checkpoint format",
            "a hand-filtered `model.state_dict()` / `named_parameters()` dict saved as the adapter file",
            "every peft",
            "from_pretrained raises KeyError when the config has modules_to_save (peft>=0.15); otherwise it "
            "loads nothing (peft<0.21), or loads only under the adapter name baked into the keys (peft>=0.21)",
        ),
        Problem(
            "PFD104",
            "other-adapters-tensors",
            "the file holds tensors of other adapters",
            "a hand-written filter (`'lora' in k`) took in every adapter; or, with several adapters, "
            "save_pretrained wrote the others' tensors too (peft<0.18 when this adapter's name appears in their "
            "keys: a module name such as `q_proj`, `weight`, a name containing it; peft>=0.20 when another "
            "adapter is named like a key component such as `model`)",
            "every peft (hand-written dicts); peft<0.18 and peft>=0.20 (save_pretrained)",
            "peft ignores them (unexpected keys); they only take space. With a baked-in name matching the load "
            "name (peft>=0.21), another adapter's weights load instead",
        ),
        Problem(
            "PFD105",
            "missing-modules-to-save",
            "no tensor for a modules_to_save module",
            "a hand-written filter on the adapter's parameter names (`'lora' in k`) misses modules_to_save",
            "every peft",
            "the module keeps the base model's weights: the trained head is lost; hand-written files with "
            "adapter names in their keys raise KeyError instead (peft>=0.15)",
        ),
        Problem(
            "PFD106",
            "missing-target-tensors",
            "a target module of the config has no tensor while the others have",
            "a second adapter named like this module made save_pretrained drop its keys (peft>=0.20); or the "
            "base model has no such module",
            "peft>=0.20 (second adapter named like a target module)",
            _LOST,
        ),
        Problem(
            "PFD107",
            "keys-match-no-target",
            "keys of modules that match no target_modules of the config",
            "the weights and the config come from different runs, or the config was edited",
            "every peft",
            "peft ignores these keys (unexpected keys) and keeps the initial values of the targeted modules",
        ),
        Problem(
            "PFD108",
            "wrong-method",
            "keys of another PEFT method than the config's",
            "the config and the weights come from different runs",
            "every peft",
            "peft ignores every such key: nothing of the trained adapter loads",
        ),
        Problem(
            "PFD109",
            "rank-mismatch",
            "tensor shapes disagree with the config's rank `r` (or `rank_pattern`)",
            "the config was edited or comes from another run",
            "every peft",
            "PeftModel.from_pretrained raises RuntimeError: size mismatch",
        ),
        Problem(
            "PFD111",
            "wrapper-copies",
            "modules_to_save tensors saved under the wrapper's in-memory name (`head.modules_to_save.weight`)",
            "an adapter name that contains the method's prefix (`lora_adapter`, `lora_`) let save_pretrained's "
            "filter keep the wrapper's keys, with the name cut out, next to PEFT's own `head.weight`",
            "peft<0.21",
            "peft<0.21 also loses these modules on load under such a name (the name is re-inserted after the first "
            "key part containing the prefix); peft>=0.21 ignores the extra keys",
        ),
        Problem(
            "PFD110",
            "config-mismatch",
            "the config and the weights do not fit together",
            "an unknown or missing `peft_type`, or keys that fit no PEFT layout",
            "every peft",
            "PeftModel.from_pretrained raises or ignores the keys, depending on what is wrong",
        ),
    )
}


@dataclass
class Diagnosis:
    """One problem found in one checkpoint. `repair` says what --repair does about it."""

    problem: Problem
    detail: str
    keys: tuple[str, ...] = ()
    repair: str = ""
    repairable: bool = False

    @property
    def ambiguous(self) -> bool:
        """The keys could be mapped back more than one way: --repair writes no copy of this checkpoint."""
        return self.repair.startswith(AMBIGUOUS)


AMBIGUOUS = "not repaired: ambiguous"


def diagnosis(
    slug: str, detail: str, keys: tuple[str, ...] = (), repair: str = "", repairable: bool = False
) -> Diagnosis:
    return Diagnosis(PROBLEMS[slug], detail, tuple(sorted(keys)), repair, repairable)


def sample(items: Any) -> str:
    if isinstance(items, dict):
        shown = [f"{k} -> {v}" for k, v in sorted(items.items())[:SHOWN_KEYS]]
    else:
        shown = list(items)[:SHOWN_KEYS]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
