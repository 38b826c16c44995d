"""One runtime proof per adapter-name hazard (the hazards the PFT1xx rules own), against the installed peft.

For every example name of a hazard the test reads the hazard's Effects: each Effect whose range contains
the installed peft version must happen (its `outcome` kind is asserted); when none does, the hazard must
be absent (every tensor round-trips, every checkpoint holds exactly the keys a safely named adapter saves,
nothing raises). A second test shows that the suggested replacement name round-trips.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from flake8_peft_names.rule import Applicability
from flake8_peft_names.rules import RULES_BY_HAZARD
from flake8_peft_names.rules.adapter_names import ADAPTER_NAME_RULES
from flake8_peft_names.name_hazards import NameContext, safe_name
from flake8_peft_names.peft_facts import (
    DOTTED_NAME,
    EMPTY_NAME,
    KEY_COMPONENT,
    KEY_COMPONENT_PREFIX,
    METHODS_BY_TYPE,
    MODULES_TO_SAVE_MODULE,
    MODULES_TO_SAVE_NAME,
    MODULE_DICT_ATTRIBUTE,
    MODULE_PATH_COMPONENT,
    NAME_INSIDE_PREFIX,
    OVERLAPPING_NAMES,
    PARAMETER_DICT_ATTRIBUTE,
    PREFIX_INSIDE_NAME,
    RELOADED_NAME,
    RE_ADDED_NAME,
    STRUCTURAL_KEY_COMPONENTS,
    WEIGHT_OR_BIAS_WITH_MODULES_TO_SAVE,
    Effect,
    Hazard,
)

from .experiment import (
    PEFT_VERSION,
    Outcome,
    ReuseOutcome,
    add_twice,
    ia3,
    load_twice,
    lora,
    make_tiny_llama,
    make_tiny_model,
    reference_keys,
    round_trip,
)

INSTALLED = frozenset({PEFT_VERSION})
BASES = {"tiny": make_tiny_model, "llama": lambda: make_tiny_llama(layers=2)}
NAME_HAZARDS = tuple(h for rule in ADAPTER_NAME_RULES for h in rule.hazards)
CONFIGS = {"lora": lora(), "lora+head": lora(["head"]), "ia3": ia3()}
ROUND_TRIP_KINDS = frozenset({"create-raises", "save-raises", "reload-lost", "reload-fails", "others-damaged"})
REUSE_KINDS = frozenset({"overwritten"})


@dataclass(frozen=True)
class Case:
    """An example of a hazard: the adapter names (created in this order), the config, the names that carry
    the hazard, and the suggested replacement names (same order)."""

    hazard: Hazard
    names: tuple[str, ...]
    config: str
    subjects: tuple[str, ...]
    replacement: tuple[str, ...]
    experiment: str = "round-trip"  # | "load-twice" | "add-twice"
    base: str = "tiny"  # | "llama": a tiny LlamaForCausalLM (two layers), for module-path components

    @property
    def id(self) -> str:
        names = "+".join(repr(n) for n in self.names)
        config = "" if self.config == "lora" else f":{self.config}"
        return f"{self.hazard.key}:{names}{config}" + ("" if self.base == "tiny" else f":{self.base}")

    def applicable(self, kind: str) -> bool:
        """Whether this experiment can show an outcome kind at all."""
        if self.experiment != "round-trip":
            return kind in REUSE_KINDS
        if kind == "others-damaged":  # needs an adapter next to a hazardous one
            return any(n != s for s in self.subjects for n in self.names)
        return kind in ROUND_TRIP_KINDS


def _case(hazard: Hazard, names, config, replacement, subjects=None, **kw) -> Case:
    names = tuple(names)
    subjects = tuple(subjects or [n for n in names if n != "default"])
    return Case(hazard, names, config, subjects, tuple(replacement), **kw)


CASES = (
    _case(EMPTY_NAME, [""], "lora", ["adapter"]),
    _case(DOTTED_NAME, ["my.adapter"], "lora", ["adapter_my_adapter"]),
    _case(MODULE_DICT_ATTRIBUTE, ["train"], "lora", ["adapter_train"]),
    _case(MODULE_DICT_ATTRIBUTE, ["default", "keys"], "lora", ["default", "adapter_keys"]),
    _case(PARAMETER_DICT_ATTRIBUTE, ["copy"], "ia3", ["adapter_copy"]),
    _case(NAME_INSIDE_PREFIX, ["lora"], "lora", ["adapter_lora"]),
    # A name containing `lora_` breaks the save filter (`"lora_" in key`): what is lost are the
    # modules_to_save tensors, so the model needs modules_to_save (without them the name round-trips).
    # `adapter_lora_adapter` (the naive `adapter_<name>` rename) is hazardous too: the prefix must go.
    _case(PREFIX_INSIDE_NAME, ["lora_adapter"], "lora+head", ["adapter_lora-adapter"]),
    _case(PREFIX_INSIDE_NAME, ["adapter_lora_adapter"], "lora+head", ["adapter_lora-adapter"]),
    _case(WEIGHT_OR_BIAS_WITH_MODULES_TO_SAVE, ["weight"], "lora+head", ["adapter_weight"]),
    _case(WEIGHT_OR_BIAS_WITH_MODULES_TO_SAVE, ["bias"], "lora+head", ["adapter_bias"]),
    # Alone, the name loses its own weights (<0.18); next to another adapter it strips that one (>=0.20).
    _case(KEY_COMPONENT, ["q_proj"], "lora", ["adapter_q_proj"]),
    _case(KEY_COMPONENT, ["default", "q_proj"], "lora", ["default", "adapter_q_proj"]),
    _case(KEY_COMPONENT, ["lora_A"], "lora", ["adapter_lora-A"]),
    _case(KEY_COMPONENT, ["default", "lora_A"], "lora", ["default", "adapter_lora-A"]),
    _case(KEY_COMPONENT, ["weight"], "lora", ["adapter_weight"]),
    _case(KEY_COMPONENT, ["default", "weight"], "lora", ["default", "adapter_weight"]),
    # peft matches modules_to_save by plain `str.endswith`, so any name ENDING in the module's name is
    # hazardous too (the LoRA layer `q_proj.lora_A.adapter_head` "is" a `head`): `adapter_head` is no fix.
    _case(MODULES_TO_SAVE_MODULE, ["head"], "lora+head", ["head_adapter"]),
    _case(MODULES_TO_SAVE_MODULE, ["adapter_head"], "lora+head", ["head_adapter"]),
    # `modules_to_save` as an adapter name: harmless alone, but from 0.20.0 saving raises next to another one.
    _case(MODULES_TO_SAVE_NAME, ["default", "modules_to_save"], "lora+head", ["default", "adapter_modules_to_save"]),
    _case(KEY_COMPONENT_PREFIX, ["q"], "lora", ["adapter_q"]),
    # Components of the module path to q_proj/v_proj in a Llama (model.layers.N.self_attn.q_proj); the
    # families and their components are measured one by one in test_module_paths.py.
    _case(MODULE_PATH_COMPONENT, ["self_attn"], "lora", ["adapter_self_attn"], base="llama"),
    _case(MODULE_PATH_COMPONENT, ["default", "layers"], "lora", ["default", "adapter_layers"], base="llama"),
    _case(MODULE_PATH_COMPONENT, ["default", "1"], "lora", ["default", "adapter_1"], base="llama"),
    _case(KEY_COMPONENT_PREFIX, ["s"], "lora", ["adapter_s"], base="llama"),
    # Names that only overlap (neither is inside `lora_`): `lora` + `lora2` would also be name-inside-prefix.
    _case(OVERLAPPING_NAMES, ["sft", "sft2"], "lora", ["adapter_sft", "sft2"], subjects=["sft", "sft2"]),
    _case(OVERLAPPING_NAMES, ["sft2", "sft"], "lora", ["sft2", "adapter_sft"], subjects=["sft", "sft2"]),
    _case(OVERLAPPING_NAMES, ["sft", "sft2"], "lora+head", ["adapter_sft", "sft2"], subjects=["sft", "sft2"]),
    # load_adapter / add_adapter under a name already taken; the replacement uses a fresh name.
    _case(RELOADED_NAME, ["sft", "sft"], "lora", ["sft", "adapter_sft"], subjects=["sft"], experiment="load-twice"),
    _case(RE_ADDED_NAME, ["sft", "sft"], "lora", ["sft", "adapter_sft"], subjects=["sft"], experiment="add-twice"),
)


def _effects_now(case: Case) -> list[Effect]:
    return [e for e in case.hazard.effects if e.affected.hits(INSTALLED)]


def _happens(kind: str, case: Case, out, reference: frozenset[str] | None) -> bool:
    if kind == "overwritten":
        return out.overwritten
    if kind == "create-raises":
        return out.create_error is not None
    if kind == "save-raises":
        return out.create_error is None and isinstance(out.save_error, KeyError)
    if out.create_error is not None:
        return False
    if kind == "reload-lost":  # silently: nothing raised, yet a tensor of a hazardous adapter differs
        return out.raised is None and any(out.lost.get(s) for s in case.subjects)
    if kind == "reload-fails":
        return isinstance(out.reload_error, KeyError) or any(out.lost.get(s) for s in case.subjects)
    if kind == "others-damaged":
        return any(out.damaged(n, reference) for n in case.names if any(s != n for s in case.subjects))
    raise AssertionError(f"unknown outcome kind {kind!r}")


def _run(case: Case, names: tuple[str, ...], tmp_path: Path):
    config = CONFIGS[case.config]
    if case.experiment == "load-twice":
        return load_twice(tmp_path / "reuse", names[0], names[1], config), None
    if case.experiment == "add-twice":
        return add_twice(names[0], names[1], config), None
    base = BASES[case.base]
    return (
        round_trip(tmp_path / "adapters", names, config, base),
        reference_keys(tmp_path / "reference", config, base),
    )


def _assert_absent(case: Case, out, reference) -> None:
    if isinstance(out, ReuseOutcome):
        assert not out.first_changed, f"the first adapter changed: {out.summary()}"
        if out.error is not None:  # refusing to reuse the name is the fix (peft 0.21 add_adapter)
            assert isinstance(out.error, ValueError) and "already exists" in str(out.error), out.summary()
        return
    assert isinstance(out, Outcome)
    assert out.round_trips, f"expected no hazard in peft {PEFT_VERSION}: {out.summary()}"
    assert not out.checkpoint_changes(reference), f"checkpoints differ from a safe adapter's: {out.summary()}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hazard(case: Case, tmp_path: Path) -> None:
    out, reference = _run(case, case.names, tmp_path)
    expected = [e for e in _effects_now(case) if case.applicable(e.outcome)]
    if not expected:
        _assert_absent(case, out, reference)
        return
    missing = [
        f"{e.outcome!r} ({e.affected}: {e.consequence})"
        for e in expected
        if not _happens(e.outcome, case, out, reference)
    ]
    assert not missing, f"peft {PEFT_VERSION}, {case.id}: expected {', '.join(missing)}; measured {out.summary()}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_replacement_round_trips(case: Case, tmp_path: Path) -> None:
    """The suggested safe names keep every tensor in the installed peft."""
    assert case.replacement != case.names
    out, reference = _run(case, case.replacement, tmp_path)
    if isinstance(out, ReuseOutcome):
        assert out.error is None, out.summary()
        assert not out.first_changed, out.summary()
        assert out.second_after, out.summary()
        if out.second_expected is not None:
            assert out.second_after.keys() == out.second_expected.keys()
            assert all(out.second_after[k].equal(v) for k, v in out.second_expected.items()), out.summary()
        return
    assert out.round_trips, out.summary()
    assert not out.checkpoint_changes(reference), out.summary()


def test_every_hazard_has_cases() -> None:
    """Every adapter-name hazard is exercised, and every Effect by some case able to show its outcome kind."""
    assert {c.hazard for c in CASES} == set(NAME_HAZARDS)
    for hazard in NAME_HAZARDS:
        for effect in hazard.effects:
            assert any(c.hazard is hazard and c.applicable(effect.outcome) for c in CASES), (hazard.key, effect.outcome)


def test_prefix_inside_name_needs_modules_to_save(tmp_path: Path) -> None:
    """Measured beyond the hazards: without modules_to_save a name containing `lora_` round-trips (measured in 0.17.1,
    0.20.0, 0.21.2);
    what prefix-inside-name loses is the modules_to_save tensors."""
    out = round_trip(tmp_path / "adapters", ("lora_adapter",), lora())
    assert out.round_trips, out.summary()
    assert not out.checkpoint_changes(reference_keys(tmp_path / "reference", lora())), out.summary()


def _context(config: str) -> NameContext:
    method = METHODS_BY_TYPE["IA3" if config == "ia3" else "LORA"]
    modules_to_save = frozenset({"head"}) if config == "lora+head" else frozenset()
    components = STRUCTURAL_KEY_COMPONENTS | set(method.param_names) | {"q_proj", "v_proj"} | modules_to_save
    return NameContext((method,), frozenset(components), modules_to_save)


RENAMED = [c for c in CASES if RULES_BY_HAZARD[c.hazard].fix_applicability is Applicability.UNSAFE]


@pytest.mark.parametrize("case", RENAMED, ids=lambda c: c.id)
def test_name_the_fixer_suggests_round_trips(case: Case, tmp_path: Path) -> None:
    """The rename the rules offer as their fix (name_hazards.safe_name) keeps every tensor."""
    context = _context(case.config)
    suggested = {n: safe_name(n, context, [o for o in case.names if o != n]) for n in case.subjects}
    renamed = tuple(suggested.get(n, n) for n in case.names)
    assert None not in renamed and renamed != case.names
    out, reference = _run(case, tuple(n for n in renamed if n is not None), tmp_path)
    assert out.round_trips, out.summary()
    assert not out.checkpoint_changes(reference), out.summary()
