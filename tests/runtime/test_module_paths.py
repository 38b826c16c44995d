"""Runtime proof of module_paths.py: in each architecture family, an adapter named like a component of the
path to an adapted module loses the weights below it, in the versions MODULE_PATH_COMPONENT names.

For every family a tiny model is built from its config (2 layers, hidden size 8-16, no download) and every
linear layer is adapted. For each component of the family's table that the model really has:
- alone (`get_peft_model(..., adapter_name=<component>)`, save, reload): peft < 0.18 loses exactly the
  tensors below the component; other versions lose nothing;
- second (`default`, then `<component>`): from 0.20, `default`'s checkpoint lacks exactly the keys below
  the component; before, it holds every key and nothing is lost.
The name PFT104 suggests instead (`safe_name`) round-trips in both experiments. The diffusers families need
diffusers (0.42.1; 0.35.2 next to peft 0.17.1, whose transformers 4.57 refuses the huggingface_hub that
diffusers 0.42 needs): skipped without it, an error under PFT_REQUIRE_RUNTIME=1.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import torch
from peft import LoraConfig, get_peft_model
from torch import nn

from flake8_peft_names.module_paths import FAMILIES_BY_KEY, LAYER_INDEXES
from flake8_peft_names.name_hazards import NameContext, safe_name
from flake8_peft_names.peft_facts import KEY_COMPONENT_PREFIX, LORA, MODULE_PATH_COMPONENT, STRUCTURAL_KEY_COMPONENTS

from .experiment import PEFT_VERSION, SEED, Outcome, reference_keys, round_trip

INSTALLED = frozenset({PEFT_VERSION})
HAS_DIFFUSERS = importlib.util.find_spec("diffusers") is not None
if not HAS_DIFFUSERS and os.environ.get("PFT_REQUIRE_RUNTIME") == "1":
    raise RuntimeError("PFT_REQUIRE_RUNTIME=1 but diffusers is not installed: see requirements/runtime-*.txt")


def _llama() -> nn.Module:
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=32)
    return LlamaForCausalLM(config)


def _bert() -> nn.Module:
    from transformers import BertConfig, BertForSequenceClassification

    return BertForSequenceClassification(BertConfig(vocab_size=32, hidden_size=16, num_hidden_layers=2,
                                                    num_attention_heads=2, intermediate_size=32,
                                                    max_position_embeddings=32))


def _roberta() -> nn.Module:
    from transformers import RobertaConfig, RobertaForSequenceClassification

    return RobertaForSequenceClassification(RobertaConfig(vocab_size=32, hidden_size=16, num_hidden_layers=2,
                                                          num_attention_heads=2, intermediate_size=32,
                                                          max_position_embeddings=40))


def _gpt2() -> nn.Module:
    from transformers import GPT2Config, GPT2LMHeadModel

    return GPT2LMHeadModel(GPT2Config(vocab_size=32, n_embd=16, n_layer=2, n_head=2, n_positions=32))


def _t5() -> nn.Module:
    from transformers import T5Config, T5ForConditionalGeneration

    return T5ForConditionalGeneration(T5Config(vocab_size=32, d_model=16, d_kv=8, d_ff=32, num_layers=2,
                                               num_decoder_layers=2, num_heads=2))


def _vit() -> nn.Module:
    from transformers import ViTConfig, ViTForImageClassification

    return ViTForImageClassification(ViTConfig(hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                               intermediate_size=32, image_size=8, patch_size=4))


def _clip() -> nn.Module:
    from transformers import CLIPVisionConfig, CLIPVisionModel

    return CLIPVisionModel(CLIPVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                            num_attention_heads=2, image_size=8, patch_size=4))


def _unet() -> nn.Module:
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(8, 16),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=8, attention_head_dim=4, norm_num_groups=4,
    )


def _dit() -> nn.Module:
    from diffusers import DiTTransformer2DModel

    return DiTTransformer2DModel(num_attention_heads=2, attention_head_dim=4, in_channels=4, out_channels=4,
                                 num_layers=2, sample_size=8, patch_size=2, norm_num_groups=4, num_embeds_ada_norm=10)


def _flux() -> nn.Module:
    from diffusers import FluxTransformer2DModel

    return FluxTransformer2DModel(patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=8,
                                  num_attention_heads=2, joint_attention_dim=8, pooled_projection_dim=8,
                                  axes_dims_rope=(2, 2, 4))


_DIFFUSERS_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "proj", "add_q_proj", "proj_mlp", "proj_out"]


@dataclass(frozen=True)
class Model:
    family: str
    build: Callable[[], nn.Module]
    targets: object  # "all-linear" or a list
    diffusers: bool = False
    # Components the tiny model must have (so that no version's layout lets the test pass vacuously).
    required: tuple[str, ...] = ()


MODELS = {
    "llama": Model("llama", _llama, "all-linear", required=("layers", "self_attn", "mlp")),
    "bert": Model("bert", _bert, "all-linear", required=("bert", "encoder", "layer", "attention", "self", "output")),
    "roberta": Model("roberta", _roberta, "all-linear", required=("roberta", "encoder", "layer", "self")),
    "gpt2": Model("gpt2", _gpt2, "all-linear", required=("transformer", "h", "attn", "mlp")),
    "t5": Model("t5", _t5, "all-linear", required=("encoder", "decoder", "block", "layer", "SelfAttention")),
    "vit": Model("vit", _vit, "all-linear", required=("vit", "attention")),
    "clip": Model("clip", _clip, "all-linear", required=("encoder", "layers", "self_attn", "mlp")),
    "unet": Model("unet", _unet, _DIFFUSERS_TARGETS, diffusers=True,
                  required=("down_blocks", "up_blocks", "attentions", "transformer_blocks", "attn1", "attn2")),
    "dit": Model("dit", _dit, _DIFFUSERS_TARGETS, diffusers=True, required=("transformer_blocks", "attn1")),
    "flux": Model("dit", _flux, _DIFFUSERS_TARGETS, diffusers=True,
                  required=("transformer_blocks", "attn", "single_transformer_blocks")),
}


def _make(model: Model) -> Callable[[], nn.Module]:
    def make() -> nn.Module:
        torch.manual_seed(SEED)
        return model.build()

    return make


def _config(model: Model):
    targets = model.targets
    return lambda: LoraConfig(r=2, lora_alpha=4, target_modules=targets if isinstance(targets, str) else list(targets))


def _model_components(model: Model) -> set[str]:
    """The path components above the adapted modules of the tiny model, in the installed transformers."""
    peft_model = get_peft_model(_make(model)(), _config(model)())
    paths = [n for n, m in peft_model.named_modules() if hasattr(m, "lora_A")]
    return {c for p in paths for c in p.split(".")[2:-1]}


def _cases() -> list:
    cases = []
    for key, model in MODELS.items():
        family = FAMILIES_BY_KEY[model.family]
        marks = [pytest.mark.skipif(model.diffusers and not HAS_DIFFUSERS, reason="diffusers is not installed")]
        # `model` is a structural key component (PFT104's own case, test_structural_names.py).
        for component in sorted((set(family.below) | {"0", "1"}) - STRUCTURAL_KEY_COMPONENTS):
            cases.append(pytest.param(key, component, id=f"{key}:{component}", marks=marks))
    return cases


def _below(keys, component: str) -> set[str]:
    return {k for k in keys if f".{component}." in k}


def _tensors_below(out: Outcome, name: str, component: str) -> set[str]:
    """The adapter's tensors below any component that starts with `component`: peft < 0.18 cuts `.<name>`
    out of every key, so Flux's `ff_context` goes with `ff`."""
    return {k for k in out.before[name] if any(part.startswith(component) for part in k.split(".")[:-2])}


@pytest.mark.parametrize(("key", "component"), _cases())
def test_module_path_component(key: str, component: str, tmp_path: Path) -> None:
    model = MODELS[key]
    present = _model_components(model)
    assert set(model.required) <= present, f"the tiny {key} lacks {set(model.required) - present}: {sorted(present)}"
    if component not in present:
        pytest.skip(f"{component!r} is not on an adapted path of this {key} in the installed transformers")
    make, config = _make(model), _config(model)
    reference = reference_keys(tmp_path / "reference", config, make)
    effects = {e.outcome for e in MODULE_PATH_COMPONENT.effects if e.affected.hits(INSTALLED)}

    alone = round_trip(tmp_path / "alone", (component,), config, make)
    assert alone.raised is None, alone.summary()
    if "reload-lost" in effects:
        below = _tensors_below(alone, component, component)
        assert below and set(alone.lost[component]) == below, alone.summary()
    else:
        assert alone.round_trips, alone.summary()

    second = round_trip(tmp_path / "second", ("default", component), config, make)
    assert second.raised is None and not second.lost.get("default") or "others-damaged" in effects, second.summary()
    default_keys = second.saved["default"] or frozenset()
    if "others-damaged" in effects:
        assert reference - default_keys == _below(reference, component) != set(), second.summary()
        assert default_keys <= reference, second.summary()
    else:
        assert default_keys == reference, second.summary()

    context = NameContext((LORA,), frozenset(), frozenset())
    new = safe_name(component, context, ["default"])
    assert new is not None and new != component
    fixed = round_trip(tmp_path / "fixed", ("default", new), config, make)
    assert fixed.round_trips, fixed.summary()
    assert not fixed.checkpoint_changes(reference), fixed.summary()


# Names that only start a component (`s`, `self` of `self_attn`, `la` of `layers`/`layer`): peft < 0.18 cuts
# `.<name>` out of the middle of the component, so the tensors below it are lost; later versions keep them.
PREFIXES = [("llama", "s", "self_attn"), ("llama", "self", "self_attn"), ("bert", "la", "layer"),
            ("clip", "e", "encoder"), ("t5", "Self", "SelfAttention")]


@pytest.mark.parametrize(("key", "name", "component"), PREFIXES, ids=[f"{k}:{n}" for k, n, _ in PREFIXES])
def test_prefix_of_a_module_path_component(key: str, name: str, component: str, tmp_path: Path) -> None:
    model = MODELS[key]
    make, config = _make(model), _config(model)
    out = round_trip(tmp_path / "alone", (name,), config, make)
    assert out.raised is None, out.summary()
    if KEY_COMPONENT_PREFIX.effects[0].affected.hits(INSTALLED):
        assert set(out.lost[name]) >= _tensors_below(out, name, component) != set(), out.summary()
    else:
        assert out.round_trips, out.summary()


def test_layer_indexes_are_numbered_from_zero() -> None:
    assert {"0", "1", "11"} <= LAYER_INDEXES and "12" not in LAYER_INDEXES
