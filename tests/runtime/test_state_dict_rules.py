"""Runtime proofs of PFT201-PFT204 against the installed peft.

A tiny local model (`q_proj`, `v_proj` LoRA targets, `head` as modules_to_save) gets two LoRA adapters,
`default` and `other`, with every adapter tensor set to random values. Each rule's bad dict is built by the
rule's own example code (the reported expression is evaluated, or the example is executed), and so is the
replacement (the rule's `use_instead`, and the fix the rule attaches to its example finding).

Every Effect of the hazards the PFT2xx rules own is measured: it must happen when its range holds
the installed peft, and must not happen otherwise, so the versions in the docs stay honest.
"""

from __future__ import annotations

import ast
import os
import warnings
from pathlib import Path
from typing import Callable, Optional

import peft
import pytest
import torch
from packaging.version import Version
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict
from torch import nn

from flake8_peft_names.engine import check_tree
from flake8_peft_names.peft_facts import Hazard
from flake8_peft_names.rule import Finding, Rule
from flake8_peft_names.rules.state_dicts import ADAPTER_FILE, LOAD, MANUAL, REQUIRES_GRAD, STATE_DICT_RULES
from flake8_peft_names.settings import build_settings
from .experiment import adapter_tensors, differing, lora, make_tiny_model, randomise, snapshot

PEFT_VERSION = Version(peft.__version__)
INSTALLED = frozenset({PEFT_VERSION})
ADAPTERS = ("default", "other")
STATE_HAZARDS: list[Hazard] = sorted({h for rule in STATE_DICT_RULES for h in rule.hazards}, key=lambda h: h.key)

pytestmark = pytest.mark.filterwarnings("ignore")


# ---------------------------------------------------------------------------------------------
# The tiny model (experiment.py), two adapters


def config(modules_to_save: bool) -> LoraConfig:
    return lora(["head"] if modules_to_save else None)()


def lost(before: dict[str, torch.Tensor], model: nn.Module, adapter: str) -> list[str]:
    return differing(before, adapter_tensors(model, adapter))


def trained(modules_to_save: bool, seed: int = 1) -> nn.Module:
    """A peft model with adapters `default` and `other`, every adapter tensor random (a re-initialised one shows)."""
    model = get_peft_model(make_tiny_model(), config(modules_to_save))
    model.add_adapter("other", config(modules_to_save))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for adapter in ADAPTERS:
            for tensor in adapter_tensors(model, adapter).values():
                tensor.copy_(torch.randn(tensor.shape, generator=generator))
    model.set_adapter("default")
    return model


def fresh(modules_to_save: bool) -> nn.Module:
    """The same model with other random adapter values: whatever loads into it shows."""
    return trained(modules_to_save, seed=2)


def all_lost(before: dict[str, torch.Tensor], model: nn.Module, adapter: str = "default") -> bool:
    return len(lost(before, model, adapter)) == len(before)


# ---------------------------------------------------------------------------------------------
# The rules' own examples


def example_findings(rule: Rule, source: str) -> list[Finding]:
    tree = ast.parse(source)
    return [f for f in check_tree(tree, source.splitlines(True), build_settings()) if f.code == rule.code]


def reported_expression(rule: Rule) -> str:
    """The source of the expression the rule reports in its own example."""
    (finding,) = example_findings(rule, rule.example)
    tree = ast.parse(rule.example)
    for node in ast.walk(tree):
        position = (getattr(node, "lineno", None), getattr(node, "col_offset", None))
        end = (getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None))
        if position == (finding.line, finding.col) and end == (finding.end_line, finding.end_col):
            segment = ast.get_source_segment(rule.example, node)
            assert segment is not None
            return segment
    raise AssertionError(f"{rule.code}: no node at the reported position")


def fix_replacement(rule: Rule) -> str:
    (finding,) = example_findings(rule, rule.example)
    assert finding.fix is not None
    return finding.fix.intent.replacement  # type: ignore[union-attr]


def run(source: str, namespace: dict, directory: Path) -> dict:
    """Execute example code in `directory` (it saves files by relative paths)."""
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(source, "<example>", "exec"), namespace)
    finally:
        os.chdir(cwd)
    return namespace


def save_inference_checkpoint(directory: Path, modules_to_save: bool) -> tuple[Path, dict[str, torch.Tensor]]:
    """A correct checkpoint of `default`, for a model then loaded for inference."""
    model = trained(modules_to_save)
    model.save_pretrained(str(directory))
    return directory, snapshot(model, "default")


# ---------------------------------------------------------------------------------------------
# Measurements: each returns whether an Effect's consequence happened in the installed peft


def _manual_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    return eval(reported_expression(MANUAL), {"model": model})


def manual_wrong_keys(tmp_path: Path) -> bool:
    model = trained(modules_to_save=True)
    keys = set(_manual_dict(model))
    lora_keys = {k for k in keys if ".lora_" in k}
    return (
        all(".default." in k or ".other." in k for k in lora_keys)  # the adapter name stays in the keys
        and any(".other." in k for k in keys)  # the other adapter's tensors come along
        and not any("head" in k for k in keys)  # modules_to_save is missed
    )


def _reload_manual(modules_to_save: bool, tmp_path: Path) -> tuple[Optional[BaseException], bool]:
    """Save the example's dict with torch.save, load it with set_peft_model_state_dict: (error, all lost)."""
    model = trained(modules_to_save)
    before = snapshot(model, "default")
    namespace = run(MANUAL.example, {"base_model": make_tiny_model()}, tmp_path) if modules_to_save else None
    if namespace is not None:  # the example itself (modules_to_save=["head"]) saved `lora.pt`
        saved = namespace["lora_state"]
        before = snapshot(namespace["model"], "default")
    else:
        saved = _manual_dict(model)
    torch.save(saved, tmp_path / "reloaded.pt")
    target = fresh(modules_to_save)
    try:
        set_peft_model_state_dict(target, torch.load(tmp_path / "reloaded.pt"))
    except Exception as error:  # noqa: BLE001 - which error it is, is the measurement
        return error, False
    return None, all_lost(before, target)


def manual_reload_raises_with_modules_to_save(tmp_path: Path) -> bool:
    error, _ = _reload_manual(True, tmp_path)
    return isinstance(error, KeyError)


def manual_reload_lost_with_modules_to_save(tmp_path: Path) -> bool:
    error, everything_lost = _reload_manual(True, tmp_path)
    return error is None and everything_lost


def manual_reload_lost(tmp_path: Path) -> bool:
    error, everything_lost = _reload_manual(False, tmp_path)
    assert error is None, error
    return everything_lost


def _inference_dict(modules_to_save: bool, tmp_path: Path) -> dict[str, torch.Tensor]:
    folder, _ = save_inference_checkpoint(tmp_path / "adapter", modules_to_save)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = PeftModel.from_pretrained(make_tiny_model(), str(folder))  # is_trainable=False, the default
    return eval(reported_expression(REQUIRES_GRAD), {"model": model})


def requires_grad_no_lora_weights(tmp_path: Path) -> bool:
    return not any("lora_" in k for k in _inference_dict(True, tmp_path)) and not _inference_dict(
        False, tmp_path / "plain"
    )


def requires_grad_empty(tmp_path: Path) -> bool:
    return _inference_dict(True, tmp_path) == {}


def load_state_dict_nothing_loaded(tmp_path: Path) -> bool:
    source = trained(modules_to_save=True)
    before = snapshot(source, "default")
    state = get_peft_model_state_dict(source)
    target = fresh(modules_to_save=True)
    result = eval(reported_expression(LOAD), {"model": target, "state": state})
    return all_lost(before, target) and set(result.unexpected_keys) == set(state)


def load_state_dict_manual_skips_modules_to_save(tmp_path: Path) -> bool:
    source = trained(modules_to_save=True)
    before = snapshot(source, "default")
    target = fresh(modules_to_save=True)
    eval(reported_expression(LOAD), {"model": target, "state": _manual_dict(source)})
    missed = lost(before, target, "default")
    return bool(missed) and all(".modules_to_save." in k for k in missed)


def _from_pretrained_hand_written(modules_to_save: bool, tmp_path: Path) -> tuple[Optional[BaseException], bool]:
    model = trained(modules_to_save)
    before = snapshot(model, "default")
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    model.peft_config["default"].save_pretrained(str(output_dir))  # adapter_config.json, as such scripts do
    run(ADAPTER_FILE.example, {"model": model, "output_dir": str(output_dir)}, tmp_path)
    assert (output_dir / "adapter_model.bin").exists()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = PeftModel.from_pretrained(make_tiny_model(), str(output_dir))
    except Exception as error:  # noqa: BLE001
        return error, False
    return None, all_lost(before, loaded)


def adapter_file_not_peft_format(tmp_path: Path) -> bool:
    model = trained(modules_to_save=True)
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    run(ADAPTER_FILE.example, {"model": model, "output_dir": str(output_dir)}, tmp_path)
    written = set(torch.load(output_dir / "adapter_model.bin"))
    return (
        not written & set(get_peft_model_state_dict(model))
        and "base_model.model.q_proj.lora_A.default.weight" in written
    )


def adapter_file_raises(tmp_path: Path) -> bool:
    error, _ = _from_pretrained_hand_written(True, tmp_path)
    return isinstance(error, KeyError)


def adapter_file_lost_with_modules_to_save(tmp_path: Path) -> bool:
    error, everything_lost = _from_pretrained_hand_written(True, tmp_path)
    return error is None and everything_lost


def adapter_file_lost(tmp_path: Path) -> bool:
    error, everything_lost = _from_pretrained_hand_written(False, tmp_path)
    assert error is None, error
    return everything_lost


def _save_prefiltered(tmp_path: Path) -> tuple[Optional[KeyError], bool]:
    """The LLaVA ZeRO-3 helper's `"lora_" in k` pre-filter handed to save_pretrained on a model with
    modules_to_save: (the KeyError saving raised, whether the reloaded adapter lacks the head)."""
    model = trained(modules_to_save=True)
    before = snapshot(model, "default")
    pre = {k: t for k, t in model.named_parameters() if "lora_" in k}
    try:
        model.save_pretrained(str(tmp_path), selected_adapters=["default"], state_dict=pre)
    except KeyError as error:
        return error, False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = PeftModel.from_pretrained(make_tiny_model(), str(tmp_path))
    head = [k for k in before if ".modules_to_save." in k]
    return None, bool(head) and set(head) <= set(lost(before, loaded, "default"))


def prefilter_raises(tmp_path: Path) -> bool:
    return _save_prefiltered(tmp_path)[0] is not None


def prefilter_drops_modules_to_save(tmp_path: Path) -> bool:
    error, head_lost = _save_prefiltered(tmp_path)
    return error is None and head_lost


MEASUREMENTS: dict[tuple[str, str], Callable[[Path], bool]] = {
    ("prefilter-without-modules-to-save", "prefilter-raises"): prefilter_raises,
    ("prefilter-without-modules-to-save", "prefilter-drops-modules-to-save"): prefilter_drops_modules_to_save,
    ("manual-state-dict", "wrong-keys"): manual_wrong_keys,
    ("manual-state-dict", "reload-raises-with-modules-to-save"): manual_reload_raises_with_modules_to_save,
    ("manual-state-dict", "reload-lost-with-modules-to-save"): manual_reload_lost_with_modules_to_save,
    ("manual-state-dict", "reload-lost"): manual_reload_lost,
    ("requires-grad-checkpoint", "no-lora-weights-for-inference"): requires_grad_no_lora_weights,
    ("requires-grad-checkpoint", "empty-for-inference"): requires_grad_empty,
    ("peft-dict-in-load-state-dict", "nothing-loaded"): load_state_dict_nothing_loaded,
    ("manual-dict-in-load-state-dict", "modules-to-save-not-restored"): load_state_dict_manual_skips_modules_to_save,
    ("hand-written-adapter-file", "not-peft-format"): adapter_file_not_peft_format,
    ("hand-written-adapter-file", "from-pretrained-raises"): adapter_file_raises,
    ("hand-written-adapter-file", "from-pretrained-lost-with-modules-to-save"): adapter_file_lost_with_modules_to_save,
    ("hand-written-adapter-file", "from-pretrained-lost"): adapter_file_lost,
}
EFFECTS = [(hazard.key, effect) for hazard in STATE_HAZARDS for effect in hazard.effects]


def test_every_state_dict_effect_is_measured() -> None:
    assert {(key, effect.outcome) for key, effect in EFFECTS} == set(MEASUREMENTS)


@pytest.mark.parametrize("key, effect", EFFECTS, ids=[f"{k}:{e.outcome}" for k, e in EFFECTS])
def test_effect_happens_exactly_in_its_versions(key, effect, tmp_path: Path) -> None:
    claimed = effect.affected.hits(INSTALLED)
    happened = MEASUREMENTS[(key, effect.outcome)](tmp_path)
    assert happened == claimed, (
        f"peft {PEFT_VERSION}: {key} says {effect.affected} {effect.consequence!r} "
        f"({'claimed' if claimed else 'not claimed'} here), measured {'it' if happened else 'not'}"
    )


# ---------------------------------------------------------------------------------------------
# The replacements round-trip every tensor


@pytest.mark.parametrize("modules_to_save", [True, False], ids=["modules_to_save", "plain"])
def test_get_and_set_peft_model_state_dict_round_trip_both_adapters(modules_to_save: bool, tmp_path: Path) -> None:
    model = trained(modules_to_save)
    target = fresh(modules_to_save)
    for adapter in ADAPTERS:
        before = snapshot(model, adapter)
        torch.save(get_peft_model_state_dict(model, adapter_name=adapter), tmp_path / f"{adapter}.pt")
        set_peft_model_state_dict(target, torch.load(tmp_path / f"{adapter}.pt"), adapter_name=adapter)
        assert lost(before, target, adapter) == []
        assert len(before) == (6 if modules_to_save else 4)


def _randomised(model: nn.Module, seed: int) -> nn.Module:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in adapter_tensors(model, "default").values():
            tensor.copy_(torch.randn(tensor.shape, generator=generator))
    return model


def test_manual_rule_use_instead_and_fix_round_trip(tmp_path: Path) -> None:
    """`use_instead` saves `get_peft_model_state_dict(model, adapter_name="default")` with torch.save; the fix
    the rule attaches to its example is `get_peft_model_state_dict(model)`: both reload every tensor, head included."""
    namespace = run(MANUAL.use_instead, {"base_model": make_tiny_model()}, tmp_path)
    model = _randomised(namespace["model"], seed=1)
    before = snapshot(model, "default")
    assert any(".modules_to_save." in k for k in before)
    run(MANUAL.use_instead.splitlines()[-2] + "\n" + MANUAL.use_instead.splitlines()[-1], namespace, tmp_path)
    for state in (torch.load(tmp_path / "lora.pt"), eval(fix_replacement(MANUAL), namespace)):
        (tmp_path / "target").mkdir(exist_ok=True)
        built = run(MANUAL.use_instead, {"base_model": make_tiny_model()}, tmp_path / "target")
        target = _randomised(built["model"], seed=2)
        assert lost(before, target, "default")
        set_peft_model_state_dict(target, state)
        assert lost(before, target, "default") == []


def test_requires_grad_rule_use_instead_holds_every_weight(tmp_path: Path) -> None:
    folder, before = save_inference_checkpoint(tmp_path / "adapter", modules_to_save=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = PeftModel.from_pretrained(make_tiny_model(), str(folder))
    namespace = run(
        REQUIRES_GRAD.use_instead.replace('"out/adapter"', repr(str(folder))),
        {"base_model": make_tiny_model()},
        tmp_path,
    )
    for state in (namespace["trainable"], eval(fix_replacement(REQUIRES_GRAD), {"model": model, **namespace})):
        target = fresh(modules_to_save=True)
        set_peft_model_state_dict(target, state)
        assert lost(before, target, "default") == []


def test_load_rule_use_instead_and_fix_load_every_tensor(tmp_path: Path) -> None:
    source = trained(modules_to_save=True)
    before = snapshot(source, "default")
    state = get_peft_model_state_dict(source)
    # peft 0.17.1 and 0.20.0 rename the modules_to_save keys of the dict they are given in place: one dict each
    target = fresh(modules_to_save=True)
    namespace = {"model": target, "state": dict(state), "set_peft_model_state_dict": set_peft_model_state_dict}
    eval(fix_replacement(LOAD), namespace)
    assert lost(before, target, "default") == []
    target = fresh(modules_to_save=True)
    statement = LOAD.use_instead.splitlines()[-1]  # set_peft_model_state_dict(model, state)
    run(
        statement,
        {"model": target, "state": dict(state), "set_peft_model_state_dict": set_peft_model_state_dict},
        tmp_path,
    )
    assert lost(before, target, "default") == []


@pytest.mark.parametrize("modules_to_save", [True, False], ids=["modules_to_save", "plain"])
def test_adapter_file_rule_use_instead_round_trips(modules_to_save: bool, tmp_path: Path) -> None:
    model = trained(modules_to_save)
    before = snapshot(model, "default")
    output_dir = tmp_path / "out"
    run(ADAPTER_FILE.use_instead, {"model": model, "output_dir": str(output_dir)}, tmp_path)
    for weights in ("adapter_model.safetensors", "adapter_model.bin"):  # save_pretrained's file, then the .bin
        if weights == "adapter_model.bin":
            (output_dir / "adapter_model.safetensors").unlink()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = PeftModel.from_pretrained(make_tiny_model(), str(output_dir))
        assert lost(before, loaded, "default") == []


# ---------------------------------------------------------------------------------------------
# Measured beyond the hazards: what the precision negatives rest on


@pytest.mark.parametrize("keeps_modules_to_save", [True, False])
def test_prefilter_handed_to_save_pretrained(keeps_modules_to_save: bool, tmp_path: Path) -> None:
    """A ZeRO-3/FSDP pre-filter handed to `save_pretrained(state_dict=...)`, which hands it to
    `get_peft_model_state_dict(model, state_dict=...)`: PEFT renames the keys itself, so a pre-filter that keeps
    `modules_to_save` round-trips (not reported). The LLaVA helper's `"lora_" in k` (reported) drops the head when
    the model has modules_to_save: peft 0.15.1 and later raise KeyError on save, 0.15.0 takes the head from the
    model itself, 0.13.2 and 0.14.0 save without it silently."""
    model = trained(modules_to_save=True)
    before = snapshot(model, "default")
    if keeps_modules_to_save:
        pre = {k: t for k, t in model.named_parameters() if "lora_" in k or "modules_to_save" in k}
    else:
        pre = {k: t for k, t in model.named_parameters() if "lora_" in k}
    raises = not keeps_modules_to_save and PEFT_VERSION >= Version("0.15.1")
    try:
        model.save_pretrained(str(tmp_path), selected_adapters=["default"], state_dict=pre)
    except KeyError:
        assert raises
        return
    assert not raises
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = PeftModel.from_pretrained(make_tiny_model(), str(tmp_path))
    head_dropped = not keeps_modules_to_save and PEFT_VERSION < Version("0.15")
    assert lost(before, loaded, "default") == ([k for k in before if ".modules_to_save." in k] if head_dropped else [])


def test_prefilter_copied_without_modules_to_save_round_trips_a_model_without_them(tmp_path: Path) -> None:
    """TRL's vLLM adapter sync: `"lora_" in k and f".{adapter}." in k`, copied tensor by tensor (the FSDP gather)
    and handed to `save_pretrained(selected_adapters=[adapter], state_dict=...)`. The module refuses configs with
    modules_to_save (with them, the test above: KeyError on save); without them PEFT saves every tensor of the
    adapter, of either adapter (not reported in a module that refuses modules_to_save)."""
    model = trained(modules_to_save=False)
    for adapter in ADAPTERS:
        before = snapshot(model, adapter)
        pre = {k: v for k, v in model.state_dict().items() if "lora_" in k and f".{adapter}." in k}
        materialized = {}
        for k, v in pre.items():
            materialized[k] = v.detach().cpu()
        model.save_pretrained(str(tmp_path), selected_adapters=[adapter], state_dict=materialized)
        folder = tmp_path if adapter == "default" else tmp_path / adapter
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = PeftModel.from_pretrained(make_tiny_model(), str(folder), adapter_name=adapter)
        assert lost(before, loaded, adapter) == []


@pytest.mark.parametrize("modules_to_save", [True, False], ids=["modules_to_save", "plain"])
def test_requires_grad_prefilter_handed_to_save_pretrained(modules_to_save: bool, tmp_path: Path) -> None:
    """ms-swift's LoRA-LLM tuner hands the trainable parameters of a model made by get_peft_model to
    `save_pretrained(state_dict=...)`: PEFT picks the adapter out of them, modules_to_save included (they are
    trainable), so it round-trips (not reported). The same filter on a model loaded for inference holds no LoRA
    weight: saving it raises KeyError or writes no LoRA weight (PFT202 reports that case)."""
    model = trained(modules_to_save)
    before = snapshot(model, "default")
    pre = {n: p.detach().cpu() for n, p in model.named_parameters() if p.requires_grad}
    model.save_pretrained(str(tmp_path / "trainable"), selected_adapters=["default"], state_dict=pre)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = PeftModel.from_pretrained(make_tiny_model(), str(tmp_path / "trainable"))
        assert lost(before, loaded, "default") == []
        inference = PeftModel.from_pretrained(make_tiny_model(), str(tmp_path / "trainable"))  # is_trainable=False
    empty = {n: p for n, p in inference.named_parameters() if p.requires_grad}
    try:
        inference.save_pretrained(str(tmp_path / "inference"), state_dict=empty)
    except KeyError:
        assert modules_to_save
        return
    written = peft.utils.load_peft_weights(str(tmp_path / "inference"))
    assert not any("lora_" in k for k in written)


def test_hand_written_dict_keys_are_not_peft_format() -> None:
    """What every hand-written dict of the examples holds, next to PEFT's format (section 4 of the facts)."""
    model = trained(modules_to_save=True)
    manual = set(_manual_dict(model))
    peft_format = set(get_peft_model_state_dict(model))
    assert "base_model.model.q_proj.lora_A.default.weight" in manual
    assert "base_model.model.q_proj.lora_A.weight" in peft_format
    assert {"base_model.model.head.weight", "base_model.model.head.bias"} <= peft_format
    assert not manual & peft_format


FIXTURES = Path(__file__).parent.parent / "fixtures" / "state_dicts"


def _best_copy_expression(fixture: str) -> str:
    """The comprehension a fixture's best-epoch loop keeps (`best_state = {...}`), as written there."""
    for line in (FIXTURES / fixture).read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("best_state = {"):
            return line.split("=", 1)[1].split("#")[0].strip()
    raise AssertionError(f"no best-epoch copy in {fixture}")


@pytest.mark.parametrize(
    ("modules_to_save", "fixture"),
    [(True, "in_memory_copies.py"), (False, "negative_in_memory_copies.py")],
    ids=["modules_to_save", "plain"],
)
def test_best_epoch_copy_restored_into_its_model(modules_to_save: bool, fixture: str) -> None:
    """A copy filtered by `"lora" in k` and loaded back into the model it was taken from (after more training):
    without modules_to_save it restores every adapter tensor of both adapters, so PFT201/PFT203 do not report it
    (negative fixture); with them the head keeps its later values (reported, positive fixture)."""
    model = trained(modules_to_save)
    before = {adapter: snapshot(model, adapter) for adapter in ADAPTERS}
    best = eval(_best_copy_expression(fixture), {"model": model})  # the fixture's own comprehension
    for seed, adapter in enumerate(ADAPTERS, start=10):  # the epochs after the best one
        randomise(model, adapter, seed)
    model.load_state_dict(best, strict=False)
    not_restored = sorted(k for adapter in ADAPTERS for k in lost(before[adapter], model, adapter))
    if modules_to_save:
        assert not_restored and all(".modules_to_save." in k for k in not_restored)
    else:
        assert not_restored == []
    codes = {f.code for f in check_tree(ast.parse((FIXTURES / fixture).read_text()), [], build_settings(None))}
    assert codes == ({"PFT201", "PFT203"} if modules_to_save else set())
