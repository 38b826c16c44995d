"""What a key of a PEFT adapter checkpoint looks like, and how to undo the damage adapter names did to it.

PEFT's checkpoint format (what `save_pretrained` writes, measured for every method in
tests/runtime/test_doctor.py): `base_model.model.<module path>.<parameter>[.<sub>...]` for adapter layers,
`base_model.<shared tensor>` for method-level tensors (VeRA's `vera_A`), and
`base_model.model.<module>.<tensor>` for `modules_to_save`. The adapter name is never in a key.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from ..peft_facts import METHODS, Method

HEAD = ("base_model", "model")
# Components that may follow a parameter in PEFT's format: `lora_A.weight`, and per method GLoRA
# `glora_A.Xd`, OSF `osf_svd_params.U_low`, Poly `poly_router.module_logits`, PSOFT `psoft_R.vector_a`
# (measured, peft 0.21.2).
SUBS = frozenset({"weight", "bias"})
METHOD_SUBS = {
    "GLORA": frozenset({"Xd", "Xu", "X"}),
    "OSF": frozenset({"S_low", "U_low", "V_low"}),
    "POLY": frozenset({"module_logits"}),
    "PSOFT": frozenset({"vector_a", "vector_b"}),
}
# Parameters kept in `nn.Module`s, saved with `.weight` (and `lora_B.bias` with `lora_bias=True`).
MODULE_PARAMS = {
    "LORA": frozenset({"lora_A", "lora_B"}),
    "OFT": frozenset({"oft_R"}),
    "LILY": frozenset({"lily_A", "lily_B", "lily_router"}),
    "PEANUT": frozenset({"peanut_A", "peanut_B"}),
}
MAX_PLACES = 16  # places where an adapter name may have been cut out of one key: more, and no repair is tried
MAX_INSERTIONS = 4  # cuts in one key: a key has a module, a parameter and a suffix, and `model` in its path
# Parameters saved without a sub-component (PEFT strips DoRA's `.weight`; embeddings are bare parameters).
BARE_PARAMS = {"LORA": frozenset({"lora_embedding_A", "lora_embedding_B", "lora_magnitude_vector"})}
# `lora_bias=True` gives LoRA's B a bias, never A.
NO_BIAS = {"LORA": frozenset({"lora_A"})}
NUMBER = "<n>"  # stands for a layer number while searching
TOKENS = "trainable_tokens_delta"  # trainable tokens inside another method's checkpoint
WRAPPERS = ("modules_to_save", "original_module")


@dataclass(frozen=True)
class Layout:
    """What the adapter config says the keys must look like."""

    method: Method
    targets: Optional[tuple[str, ...]]  # None: any module (a regex, "all-linear" or unset)
    target_regex: Optional[str]
    modules_to_save: tuple[str, ...]

    @classmethod
    def of(cls, method: Method, config: dict[str, Any]) -> Layout:
        raw = config.get("target_modules")
        targets = tuple(str(t) for t in raw) if isinstance(raw, list) else None
        regex = raw if isinstance(raw, str) and raw != "all-linear" else None
        mts = config.get("modules_to_save")
        return cls(method, targets, regex, tuple(str(m) for m in mts) if isinstance(mts, list) else ())

    @property
    def subs(self) -> frozenset[str]:
        return SUBS | METHOD_SUBS.get(self.method.peft_type, frozenset())

    def is_param(self, component: str) -> bool:
        return component.startswith(self.method.prefix) or component in self.method.param_names

    def is_target(self, path: Sequence[str]) -> bool:
        name = ".".join(path)
        if self.targets is not None:
            return any(name == t or name.endswith("." + t) for t in self.targets)
        if self.target_regex is not None:
            try:
                return re.fullmatch(self.target_regex, name) is not None
            except re.error:
                return True
        return bool(path)

    def known_names(self) -> frozenset[str]:
        """Components whose names a cut-out adapter name may have shortened (or removed)."""
        names = {*HEAD, *self.subs, *self.method.param_names, *WRAPPERS}
        names.update(t.split(".")[-1] for t in (self.targets or ()))
        names.update(m.split(".")[-1] for m in self.modules_to_save)
        return frozenset(names)


@dataclass(frozen=True)
class Key:
    """A key read against the layout. `kind`: adapter | shared | modules_to_save | original | base_layer | tokens |
    wrapper_copy (`head.modules_to_save.weight`: a modules_to_save tensor under its wrapper, the name cut out)."""

    kind: str
    path: tuple[str, ...]  # the module path after `base_model.model`
    param: str = ""
    subs: tuple[str, ...] = ()
    baked: Optional[str] = None  # an adapter name inside the key (PEFT's in-memory layout)

    def peft_key(self) -> str:
        """The key in PEFT's checkpoint format (no adapter name)."""
        if self.kind == "wrapper_copy":
            return ".".join((*HEAD, *self.path, *self.subs))
        if self.kind == "shared":
            return ".".join(("base_model", self.param, *self.subs))
        return ".".join((*HEAD, *self.path, *((self.param,) if self.param else ()), *self.subs))


def method_of(config: dict[str, Any]) -> Optional[Method]:
    peft_type = str(config.get("peft_type", "")).upper()
    return next((m for m in METHODS if m.peft_type == peft_type), None)


def other_method(component: str, method: Method) -> Optional[Method]:
    """The method whose parameter this component is, when it is not `method`'s."""
    for other in METHODS:
        if other.peft_type != method.peft_type and component in other.param_names:
            if not (component.startswith(method.prefix) or component in method.param_names):
                return other
    return None


def parse(key: str, layout: Layout) -> Optional[Key]:
    """The key read as PEFT's format (maybe with an adapter name baked in); None when it does not fit."""
    comps = key.split(".")
    if len(comps) < 2 or comps[0] != HEAD[0] or "" in comps:
        return None
    if comps[1] != HEAD[1]:
        stem = layout.method.prefix.split("_")[0] + "_"
        shared = comps[1].startswith(stem) and comps[1] not in MODULE_PARAMS.get(layout.method.peft_type, ())
        return Key("shared", (), comps[1], tuple(comps[2:])) if shared else None
    body = comps[2:]
    if (
        TOKENS in body[1:]
    ):  # LoRA & co. with trainable_token_indices: `embed_tokens.token_adapter.trainable_tokens_delta`
        i = body.index(TOKENS)
        return Key("tokens", tuple(body[:i]), TOKENS, tuple(body[i + 1 :]))
    for i, comp in enumerate(body):
        if layout.is_param(comp) and i > 0:
            return _adapter_key(tuple(body[:i]), comp, body[i + 1 :], layout.subs)
    for i, comp in enumerate(body):
        if comp in WRAPPERS and i > 0 and len(body) > i + 1:
            if comp == "original_module":
                return Key("original", tuple(body[:i]), subs=tuple(body[i + 1 :]))
            if len(body) == i + 2 and body[i + 1] in SUBS:  # `head.modules_to_save.weight`: the name was cut
                return Key("wrapper_copy", tuple(body[:i]), subs=(body[i + 1],))
            return Key("modules_to_save", tuple(body[:i]), subs=tuple(body[i + 2 :]), baked=body[i + 1])
    if "base_layer" in body:
        return Key("base_layer", tuple(body))
    for i in range(len(body) - 1, 0, -1):
        name = ".".join(body[:i])
        if any(name == m or name.endswith("." + m) for m in layout.modules_to_save):
            return Key("modules_to_save", tuple(body[:i]), subs=tuple(body[i:]))
    return None


def _adapter_key(path: tuple[str, ...], param: str, rest: Sequence[str], subs: frozenset[str]) -> Optional[Key]:
    baked = None
    if rest and rest[0] not in subs:
        baked, rest = rest[0], rest[1:]
    if any(r not in subs for r in rest):
        return None
    return Key("adapter", path, param, tuple(rest), baked)


def well_formed(key: Key, layout: Layout) -> bool:
    """A key PEFT writes for this config (apart from a baked adapter name)."""
    if key.kind == "base_layer":
        return True  # PEFT saves the base embedding with targeted embeddings: `embed_tokens.base_layer.weight`
    if any(c in layout.subs or c in WRAPPERS or layout.is_param(c) for c in key.path):
        return False  # a parameter name is no module name
    if key.kind == "adapter":
        if key.param in MODULE_PARAMS.get(layout.method.peft_type, ()) and not key.subs:
            return False
        if key.param in BARE_PARAMS.get(layout.method.peft_type, ()) and key.subs:
            return False
        if key.subs == ("bias",) and key.param in NO_BIAS.get(layout.method.peft_type, ()):
            return False
        return layout.is_target(key.path)
    return key.kind != "modules_to_save" or bool(key.subs)


# ---------------------------------------------------------------------------------------------
# Undoing peft < 0.18's `key.replace(f".{adapter_name}", "")` (peft#2252)


def unmangled(key: str, name: str, layout: Layout) -> list[str]:
    """See `_unmangled`; layer numbers are set aside first, so the 32 layers of a model cost one search."""
    comps = key.split(".")
    numbers = [c for c in comps if c.isdigit()]
    if not numbers or name.isdigit() or NUMBER in key:
        return list(_unmangled(key, name, layout))
    template = ".".join(NUMBER if c.isdigit() else c for c in comps)
    found = []
    for candidate in _unmangled(template, name, layout):
        parts, taken = candidate.split("."), iter(numbers)
        found.append(".".join(next(taken) if p == NUMBER else p for p in parts))
    return found


@functools.lru_cache(maxsize=4096)
def _unmangled(key: str, name: str, layout: Layout) -> tuple[str, ...]:
    """Every well-formed key K (maybe with another adapter's name baked in) with
    `K.replace("." + name, "") == key`, where each cut-out `.name` began a component with a known name (a
    parameter, target module, modules_to_save module, `model`, `weight`...).
    Places inside the module path are tried too (`model` in `base_model.model.model.layers`): when the
    name could have been cut there as well, more than one key comes back and the repair refuses."""
    cut = "." + name
    known = layout.known_names()
    remainders = {n[len(name) :] for n in known if n.startswith(name)}
    places = [p for p in range(1, len(key) + 1) if key[p:].split(".")[0] in remainders]
    if len(places) > MAX_PLACES:
        return ()
    found = set()
    for count in range(1, min(len(places), MAX_INSERTIONS) + 1):
        for chosen in itertools.combinations(places, count):
            candidate = _insert(key, chosen, cut)
            if candidate.replace(cut, "") != key:
                continue
            parsed = parse(candidate, layout)
            if parsed is None or parsed.kind not in ("adapter", "modules_to_save"):
                continue
            if (
                (parsed.kind == "adapter" or parsed.baked is None)
                and _plausible_baked(parsed.baked, name)
                and well_formed(parsed, layout)
            ):
                found.add(candidate)
    return tuple(sorted(found))


def _plausible_baked(baked: Optional[str], name: str) -> bool:
    """An adapter name left in a key: never the cut name (that is the in-memory layout the save started
    from), never a parameter name of any method."""
    if baked is None:
        return True
    return baked != name and not any(baked.startswith(m.prefix) or baked in m.param_names for m in METHODS)


def _insert(key: str, places: Sequence[int], text: str) -> str:
    parts, last = [], 0
    for place in places:
        parts += [key[last:place], text]
        last = place
    return "".join(parts) + key[last:]


def name_candidates(layout: Layout, hint: Optional[str]) -> list[str]:
    """Adapter names that may have been cut out of these keys: the folder's name (save_pretrained writes an
    adapter other than `default` into a folder of its name), then every start of a known component name."""
    names = {n[:i] for n in layout.known_names() for i in range(1, len(n) + 1)}
    ordered = sorted(names, key=lambda n: (-len(n), n))
    return ([hint] if hint else []) + [n for n in ordered if n != hint]
