"""The checkpoint doctor on checkpoints real peft broke, and its repairs loaded back by real peft.

Save-side bugs (peft < 0.18) are made with peft 0.17.1 and kept in doctor_checkpoints/peft-0.17.1/ (adapter
config, the broken adapter_model.safetensors, and trained.safetensors: every adapter tensor of the training
run). In the 0.17.1 environment the checkpoints are made again and must equal the kept ones (set
PFT_WRITE_DOCTOR_CHECKPOINTS=1 there to rewrite them); with peft >= 0.20 the doctor repairs them and peft
loads every trained tensor back. The other checkpoints are made by the installed peft itself.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Optional

import peft
import pytest
import torch
from packaging.version import Version
from peft import PeftModel, get_peft_model
from safetensors.torch import load_file, save_file

from flake8_peft_names.doctor.command import diagnose_paths, repair_all
from flake8_peft_names.doctor.output import Outcome
from flake8_peft_names.peft_facts import METHODS

from .experiment import (
    CHECKPOINT,
    PEFT_VERSION,
    TARGETS,
    adapter_folder,
    adapter_tensors,
    differing,
    lora,
    make_tiny_model,
    randomise,
    round_trip,
)

KEPT = Path(__file__).parent / "doctor_checkpoints" / "peft-0.17.1"
WRITE_KEPT = os.environ.get("PFT_WRITE_DOCTOR_CHECKPOINTS") == "1"
SAVE_SIDE_VERSION = Version("0.17.1")
# (adapter names in creation order, modules_to_save, the adapter whose checkpoint is kept, expected problems)
SAVE_SIDE = {
    "name-inside-prefix": (("lora",), ["head"], "lora", ["mangled-keys"]),
    "key-component-prefix": (("q",), None, "q", ["mangled-keys"]),
    "name-weight": (("weight",), None, "weight", ["mangled-keys"]),
    "name-model": (("model",), None, "model", ["mangled-keys"]),
    "second-named-like-target": (("default", "q_proj"), None, "q_proj", ["mangled-keys", "other-adapters-tensors"]),
}


def doctor(folder: Path, adapter: Optional[str] = None, repair_to: Optional[Path] = None) -> Outcome:
    """The doctor's outcome for the adapter in `folder` (save_pretrained puts further adapters below it)."""
    outcomes = diagnose_paths([folder], adapter)
    if repair_to is not None:
        repair_all(outcomes, [folder], repair_to)
    mine = [o for o in outcomes if o.exam is not None and o.exam.checkpoint.folder == folder]
    assert len(mine) == 1, outcomes
    assert mine[0].error is None and mine[0].repair_error is None, mine[0]
    return mine[0]


def found(outcome: Outcome) -> list[str]:
    assert outcome.exam is not None
    return [d.problem.slug for d in outcome.exam.diagnoses]


def load(folder: Path, name: str) -> dict[str, torch.Tensor]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = PeftModel.from_pretrained(make_tiny_model(), str(folder), adapter_name=name)
    return {k: v.detach().clone() for k, v in adapter_tensors(model, name).items()}


# ---------------------------------------------------------------------------------------------
# peft < 0.18: keys cut by the adapter name on save (peft#2252)


@pytest.mark.skipif(PEFT_VERSION != SAVE_SIDE_VERSION, reason="the kept checkpoints are peft 0.17.1's")
@pytest.mark.parametrize("case", sorted(SAVE_SIDE))
def test_save_side_checkpoints_are_peft_0_17_1s_and_found(tmp_path: Path, case: str) -> None:
    names, mts, kept_name, expected = SAVE_SIDE[case]
    out = round_trip(tmp_path, names, lora(mts))
    assert out.lost.get(kept_name), f"peft {PEFT_VERSION} no longer loses tensors: {out.summary()}"
    folder = adapter_folder(tmp_path, kept_name)
    kept = KEPT / case
    if WRITE_KEPT:
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir(parents=True)
        shutil.copy(folder / "adapter_config.json", kept)
        shutil.copy(folder / CHECKPOINT, kept)
        save_file({k: v.contiguous() for k, v in out.before[kept_name].items()}, str(kept / "trained.safetensors"))
    made, stored = load_file(str(folder / CHECKPOINT)), load_file(str(kept / CHECKPOINT))
    assert sorted(made) == sorted(stored) and all(torch.equal(made[k], stored[k]) for k in made)
    trained = load_file(str(kept / "trained.safetensors"))
    assert not differing(out.before[kept_name], trained)
    assert found(doctor(folder)) == expected


@pytest.mark.skipif(PEFT_VERSION < Version("0.20"), reason="the repairs are loaded by peft >= 0.20 (newest: 0.21.2)")
@pytest.mark.parametrize("case", sorted(SAVE_SIDE))
def test_repaired_save_side_checkpoints_load_every_trained_tensor(tmp_path: Path, case: str) -> None:
    names, mts, name, expected = SAVE_SIDE[case]
    broken = tmp_path / "broken" / name  # save_pretrained's folder name, as the user has it
    shutil.copytree(KEPT / case, broken, ignore=shutil.ignore_patterns("trained.safetensors"))
    trained = load_file(str(KEPT / case / "trained.safetensors"))
    assert differing(trained, load(broken, name)), "the broken checkpoint loads fine: nothing to prove"
    outcome = doctor(broken, repair_to=tmp_path / "repaired")
    assert found(outcome) == expected and outcome.repaired_to == str(tmp_path / "repaired")
    assert outcome.notes == []  # nothing left unrepaired
    after = load(tmp_path / "repaired", name)
    assert not differing(trained, after), f"{len(differing(trained, after))}/{len(trained)} tensors differ"
    assert len(trained) == len(after) == (6 if mts else 4)
    assert found(doctor(tmp_path / "repaired")) == []
    assert sorted(p.name for p in broken.iterdir()) == ["adapter_config.json", CHECKPOINT]  # source untouched


# ---------------------------------------------------------------------------------------------
# peft >= 0.20: a second adapter named like a key component strips or pollutes the first one's file


@pytest.mark.skipif(PEFT_VERSION < Version("0.20"), reason="peft < 0.20 saves the first adapter intact")
def test_second_adapter_named_weight_empties_the_first(tmp_path: Path) -> None:
    out = round_trip(tmp_path, ("default", "weight"), lora())
    assert out.lost_count("default") == 4, out.summary()
    outcome = doctor(tmp_path, repair_to=tmp_path.parent / f"{tmp_path.name}-repaired")
    assert found(outcome) == ["empty-checkpoint"]
    assert outcome.repaired_to is None and outcome.notes == ["--repair: nothing repairable, no copy written"]


@pytest.mark.skipif(PEFT_VERSION < Version("0.20"), reason="peft < 0.20 saves the first adapter intact")
def test_second_adapter_named_like_a_target_strips_its_keys(tmp_path: Path) -> None:
    out = round_trip(tmp_path, ("default", "q_proj"), lora())
    assert out.lost_count("default") == 2, out.summary()
    assert found(doctor(tmp_path)) == ["missing-target-tensors"]


@pytest.mark.skipif(PEFT_VERSION < Version("0.20"), reason="peft < 0.20 keeps the other adapter's tensors out")
def test_second_adapter_named_model_leaves_its_tensors_and_repair_drops_them(tmp_path: Path) -> None:
    out = round_trip(tmp_path / "run", ("default", "model"), lora())
    outcome = doctor(tmp_path / "run", repair_to=tmp_path / "repaired")
    assert found(outcome) == ["other-adapters-tensors"]
    repaired = load_file(str(tmp_path / "repaired" / CHECKPOINT))
    assert len(repaired) == 4 and all(k.count(".model.") == 1 for k in repaired)
    assert not differing(out.before["default"], load(tmp_path / "repaired", "default"))


# ---------------------------------------------------------------------------------------------
# Hand-written adapter files (every peft)


def _two_adapter_model(mts: Optional[list[str]]) -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    model = get_peft_model(make_tiny_model(), lora(mts)(), adapter_name="default")
    model.add_adapter("other", lora(mts)())
    trained = randomise(model, "default", seed=1)
    randomise(model, "other", seed=2)
    return model, trained


@pytest.mark.parametrize("mts", [None, ["head"]], ids=["no-modules-to-save", "modules-to-save"])
def test_hand_filtered_state_dict_is_repaired(tmp_path: Path, mts: Optional[list[str]]) -> None:
    model, trained = _two_adapter_model(mts)
    model.save_pretrained(str(tmp_path / "saved"))  # for its adapter_config.json
    folder = tmp_path / "hand"
    folder.mkdir()
    shutil.copy(tmp_path / "saved" / "adapter_config.json", folder)
    hand = {k: v.contiguous() for k, v in model.state_dict().items() if "lora" in k}
    save_file(hand, str(folder / CHECKPOINT))
    # peft >= 0.21 loads a hand-written file without modules_to_save under the name baked into its keys
    loads_as_is = not differing(trained, _load_or_empty(folder, "default"))
    assert loads_as_is == (PEFT_VERSION >= Version("0.21") and not mts)
    ambiguous = doctor(folder, repair_to=tmp_path / "refused")
    assert found(ambiguous)[0] == "adapter-name-in-keys" and ambiguous.repaired_to is None
    outcome = doctor(folder, adapter="default", repair_to=tmp_path / "repaired")
    expected = ["adapter-name-in-keys", "other-adapters-tensors"] + (["missing-modules-to-save"] if mts else [])
    assert found(outcome) == expected
    after = load(tmp_path / "repaired", "default")
    lost = differing(trained, after)
    if mts:  # the filter never saw the head: its trained weights cannot be invented
        assert sorted(lost) == [
            "base_model.model.head.modules_to_save.bias",
            "base_model.model.head.modules_to_save.weight",
        ]
        assert len(outcome.notes) == 1 and outcome.notes[0].startswith(
            "--repair could not repair missing-modules-to-save"
        )
        assert json.loads((tmp_path / "repaired" / "adapter_config.json").read_text())["modules_to_save"] is None
    else:
        assert lost == [] and len(trained) == 4


def _load_or_empty(folder: Path, name: str) -> dict[str, torch.Tensor]:
    try:
        return load(folder, name)
    except KeyError:  # peft >= 0.15 with modules_to_save: KeyError 'base_model.model.head.weight'
        return {}


def test_requires_grad_dump_of_an_inference_model_is_empty(tmp_path: Path) -> None:
    model = get_peft_model(make_tiny_model(), lora()(), adapter_name="default")
    randomise(model, "default")
    model.save_pretrained(str(tmp_path / "saved"))
    loaded = PeftModel.from_pretrained(make_tiny_model(), str(tmp_path / "saved"))
    folder = tmp_path / "dump"
    folder.mkdir()
    shutil.copy(tmp_path / "saved" / "adapter_config.json", folder)
    save_file({n: p.detach() for n, p in loaded.named_parameters() if p.requires_grad}, str(folder / CHECKPOINT))
    assert found(doctor(folder)) == ["empty-checkpoint"]
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        empty = PeftModel.from_pretrained(
            make_tiny_model(), str(folder)
        )  # the doctor's "loads nothing, raises nothing"
    assert torch.count_nonzero(adapter_tensors(empty, "default")["base_model.model.q_proj.lora_B.weight"]) == 0


def test_config_rank_disagreeing_with_the_weights(tmp_path: Path) -> None:
    model = get_peft_model(make_tiny_model(), lora()(), adapter_name="default")
    model.save_pretrained(str(tmp_path))
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    config["r"] = 4
    (tmp_path / "adapter_config.json").write_text(json.dumps(config))
    assert found(doctor(tmp_path)) == ["rank-mismatch"]
    with pytest.raises(RuntimeError, match="size mismatch"):
        load(tmp_path, "default")


# ---------------------------------------------------------------------------------------------
# Healthy checkpoints of every method the facts cover that builds on the tiny model


BUILD = {
    "ADALORA": dict(total_step=10, init_r=4, target_r=2),
    "C3A": dict(block_size=4),
    "FOURIERFT": dict(n_frequency=10),
    "IA3": dict(feedforward_modules=[]),
    "MISS": dict(r=2),
    "PSOFT": dict(r=2),
    "ROAD": dict(group_size=4),
    "SHIRA": dict(r=1),
    "SUPERTUNING": dict(sparsity=0.5),
    "VBLORA": dict(vector_length=4, num_vectors=8),
    "WAVEFT": dict(n_frequency=10),
}
NEEDS_SPECIAL_MODEL = {
    "ADAMSS": "needs scikit-learn, which the test environments do not install",
    "XLORA": "needs a transformers model and trained LoRA adapters to mix",
}
# Methods built on the tiny Llama instead of the tiny two-Linear model.
ON_TINY_LLAMA = {
    "ADAPTION_PROMPT": dict(adapter_len=2, adapter_layers=1, task_type="CAUSAL_LM"),
    "SHADOW": dict(target_modules=r".*\.layers\.\d+$"),  # decoder blocks
}


@pytest.mark.parametrize("method", [m for m in METHODS if not m.prompt_learning], ids=lambda m: m.peft_type)
def test_healthy_checkpoint_of_every_method_is_clean(tmp_path: Path, method, tiny_llama) -> None:
    if method.peft_type in NEEDS_SPECIAL_MODEL:
        pytest.skip(NEEDS_SPECIAL_MODEL[method.peft_type])
    config_class = getattr(peft, method.config_class, None)
    if config_class is None:
        pytest.skip(f"peft {PEFT_VERSION} has no {method.config_class}")
    if method.peft_type == "TRAINABLE_TOKENS" and PEFT_VERSION < Version("0.20"):
        pytest.skip(f"peft {PEFT_VERSION}: trainable tokens need an nn.Embedding target")
    if method.peft_type in ON_TINY_LLAMA:
        config, base = config_class(**ON_TINY_LLAMA[method.peft_type]), tiny_llama
    else:
        config, base = config_class(target_modules=list(TARGETS), **BUILD.get(method.peft_type, {})), make_tiny_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = get_peft_model(base, config)
        model.save_pretrained(str(tmp_path))
    assert load_file(str(tmp_path / CHECKPOINT)), "peft saved no tensor"
    outcome = doctor(tmp_path)
    assert found(outcome) == [], [d.detail for d in outcome.exam.diagnoses] if outcome.exam else outcome


# ---------------------------------------------------------------------------------------------
# .bin checkpoints: read and rewritten with torch only


def test_bin_checkpoint_is_read_and_repaired_with_torch(tmp_path: Path) -> None:
    model, trained = _two_adapter_model(None)
    model.save_pretrained(str(tmp_path / "saved"), safe_serialization=False)
    assert (tmp_path / "saved" / "adapter_model.bin").exists()
    assert found(doctor(tmp_path / "saved")) == []
    folder = tmp_path / "hand"
    folder.mkdir()
    shutil.copy(tmp_path / "saved" / "adapter_config.json", folder)
    torch.save({k: v for k, v in model.state_dict().items() if "lora" in k}, str(folder / "adapter_model.bin"))
    outcome = doctor(folder, adapter="default", repair_to=tmp_path / "repaired")
    assert found(outcome) == ["adapter-name-in-keys", "other-adapters-tensors"]
    assert not differing(trained, load(tmp_path / "repaired", "default"))


def test_bin_that_is_no_weights_pickle_is_refused(tmp_path: Path) -> None:
    import pickle

    model = get_peft_model(make_tiny_model(), lora()(), adapter_name="default")
    model.save_pretrained(str(tmp_path), safe_serialization=False)
    (tmp_path / "adapter_model.bin").write_bytes(pickle.dumps(Path("/etc/passwd")))  # not allowed by weights_only
    outcomes = diagnose_paths([tmp_path], None)
    assert len(outcomes) == 1 and outcomes[0].error is not None
    assert outcomes[0].error.startswith("adapter_model.bin cannot be loaded with torch.load(weights_only=True)")
    assert "\n" not in outcomes[0].error


def _tiny_llama_classifier():
    from transformers import LlamaConfig, LlamaForSequenceClassification

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=32,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        pad_token_id=0,
    )
    return LlamaForSequenceClassification(config)


LORA_VARIANTS = {
    "dora": (make_tiny_model, dict(target_modules=list(TARGETS), use_dora=True)),
    "lora-bias": (make_tiny_model, dict(target_modules=list(TARGETS), lora_bias=True)),
    "modules-to-save": (make_tiny_model, dict(target_modules=list(TARGETS), modules_to_save=["head"])),
    "embedding-target": ("llama", dict(target_modules=["embed_tokens", "q_proj"])),
    "all-linear": ("llama", dict(target_modules="all-linear")),
    "regex-targets": ("llama", dict(target_modules=r".*\.(q|v)_proj")),
    "rank-pattern": ("llama", dict(target_modules=["q_proj", "v_proj"], rank_pattern={"v_proj": 4})),
    "trainable-tokens": ("llama", dict(target_modules=["q_proj"], trainable_token_indices=[1, 2])),
    "sequence-classification": (_tiny_llama_classifier, dict(target_modules=["q_proj"], task_type="SEQ_CLS")),
}


@pytest.mark.parametrize("variant", sorted(LORA_VARIANTS))
def test_healthy_lora_variants_are_clean(tmp_path: Path, variant: str, tiny_llama) -> None:
    make, options = LORA_VARIANTS[variant]
    base = tiny_llama if make == "llama" else make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = get_peft_model(base, peft.LoraConfig(r=2, **options))
        model.save_pretrained(str(tmp_path))
    outcome = doctor(tmp_path)
    assert found(outcome) == [], [d.detail for d in outcome.exam.diagnoses] if outcome.exam else outcome


# ---------------------------------------------------------------------------------------------
# Every peft: an adapter named `weight` or `bias` loses the suffix of its modules_to_save keys


@pytest.mark.parametrize("name", ["weight", "bias"])
def test_modules_to_save_suffix_named_adapter_is_repaired(tmp_path: Path, name: str) -> None:
    out = round_trip(tmp_path / "run", (name,), lora(["head"]))
    assert isinstance(out.reload_error, KeyError), out.summary()  # peft cannot load its own checkpoint
    folder = adapter_folder(tmp_path / "run", name)
    outcome = doctor(folder, repair_to=tmp_path / "repaired")
    assert found(outcome) == ["mangled-keys"] and outcome.notes == []
    # the load side strips the suffix again under this name: the repaired copy loads under another one
    after = load(tmp_path / "repaired", "restored")
    trained = out.before[name]
    assert not differing(trained, after), f"{len(differing(trained, after))}/{len(trained)} tensors differ"
    assert len(after) == 6


# ---------------------------------------------------------------------------------------------
# peft < 0.21: an adapter name containing the method's prefix keeps the wrapper's modules_to_save keys


def test_name_containing_the_prefix_writes_wrapper_copies_before_0_21(tmp_path: Path) -> None:
    out = round_trip(tmp_path / "run", ("lora_adapter",), lora(["head"]))
    folder = adapter_folder(tmp_path / "run", "lora_adapter")
    outcome = doctor(folder, repair_to=tmp_path / "repaired")
    if PEFT_VERSION >= Version("0.21"):
        assert out.round_trips and found(outcome) == [], out.summary()
        return
    assert out.lost_count("lora_adapter") == 2, out.summary()  # the head, lost on load under this name
    assert found(outcome) == ["wrapper-copies"]
    repaired = load_file(str(tmp_path / "repaired" / CHECKPOINT))
    assert len(repaired) == 6 and not any(".modules_to_save." in k for k in repaired)
    assert not differing(out.before["lora_adapter"], load(tmp_path / "repaired", "restored"))
