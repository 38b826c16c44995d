"""The standard experiment behind the runtime proofs: create, randomise, save, reload, compare.

Only imported once conftest.py has checked that torch and peft are importable.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import peft
import torch
from packaging.version import Version
from peft import IA3Config, LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file
from torch import nn

from ..tiny_model import TinyModel

PEFT_VERSION = Version(peft.__version__)
SEED = 0
# Every attribute under which a PEFT layer keeps one entry per adapter (LoRA, IA3, modules_to_save).
ADAPTER_ATTRS = (
    "lora_A",
    "lora_B",
    "lora_embedding_A",
    "lora_embedding_B",
    "lora_magnitude_vector",
    "ia3_l",
    "modules_to_save",
)
TARGETS = ["q_proj", "v_proj"]
CHECKPOINT = "adapter_model.safetensors"


def make_tiny_model() -> TinyModel:
    """The base model; the same weights every time (fixed seed)."""
    torch.manual_seed(SEED)
    return TinyModel()


def make_tiny_llama(layers: int = 1):
    """A tiny random LlamaForCausalLM built from a config (never downloaded)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(SEED)
    config = LlamaConfig(
        vocab_size=32,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=32,
    )
    return LlamaForCausalLM(config)


ConfigFactory = Callable[[], object]


def lora(modules_to_save: list[str] | None = None) -> ConfigFactory:
    """A factory of fresh LoRA configs (PEFT mutates configs it is given)."""
    return lambda: LoraConfig(r=2, lora_alpha=4, target_modules=list(TARGETS), modules_to_save=modules_to_save)


def ia3() -> ConfigFactory:
    return lambda: IA3Config(target_modules=list(TARGETS), feedforward_modules=[])


# ---------------------------------------------------------------------------------------------
# Adapter tensors, one by one


def adapter_tensors(model: nn.Module, adapter: str) -> dict[str, torch.Tensor]:
    """`module.<peft_attr>[adapter]` for every PEFT layer: `{"q_proj.lora_A.weight": tensor, ...}`."""
    found: dict[str, torch.Tensor] = {}
    for module_name, module in model.named_modules():
        attrs = set(ADAPTER_ATTRS) | {a for a in getattr(module, "adapter_layer_names", ()) if "." not in a}
        for attr in sorted(attrs):
            container = module._modules.get(attr)
            if not isinstance(container, (nn.ModuleDict, nn.ParameterDict)) or adapter not in container:
                continue
            entry = container[adapter]
            where = f"{module_name}.{attr}"
            if isinstance(entry, nn.Module):
                for sub, tensor in entry.state_dict(keep_vars=True).items():
                    found[f"{where}.{sub}"] = tensor
            else:
                found[where] = entry
    return found


def randomise(model: nn.Module, adapter: str, seed: int = SEED) -> dict[str, torch.Tensor]:
    """Set every tensor of `adapter` to random values, so that a re-initialised tensor shows; return copies."""
    generator = torch.Generator().manual_seed(seed)
    tensors = adapter_tensors(model, adapter)
    assert tensors, f"adapter {adapter!r} has no tensors"
    with torch.no_grad():
        for tensor in tensors.values():
            tensor.copy_(torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype))
    return snapshot(model, adapter)


def snapshot(model: nn.Module, adapter: str) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in adapter_tensors(model, adapter).items()}


def differing(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> list[str]:
    """The tensors of `before` missing from `after` or with other values."""
    return [k for k, v in before.items() if k not in after or not torch.equal(v, after[k])]


def adapter_folder(directory: Path, adapter: str) -> Path:
    """Where `save_pretrained(directory)` writes an adapter."""
    return directory if adapter == "default" else directory / adapter


def saved_keys(folder: Path) -> frozenset[str] | None:
    path = folder / CHECKPOINT
    return frozenset(load_file(str(path))) if path.exists() else None


# ---------------------------------------------------------------------------------------------
# The round trip


@dataclass
class Outcome:
    names: tuple[str, ...]
    create_error: BaseException | None = None
    save_error: BaseException | None = None
    reload_error: BaseException | None = None
    reload_error_adapter: str | None = None  # the adapter whose from_pretrained/load_adapter raised
    before: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    lost: dict[str, list[str]] = field(default_factory=dict)  # adapter -> tensors that differ after reload
    saved: dict[str, frozenset[str] | None] = field(default_factory=dict)  # adapter -> keys in its checkpoint
    warnings: list[str] = field(default_factory=list)

    @property
    def raised(self) -> BaseException | None:
        return self.create_error or self.save_error or self.reload_error

    def lost_count(self, adapter: str) -> int:
        return len(self.lost.get(adapter, ()))

    def checkpoint_changes(self, reference: frozenset[str]) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
        """Adapters whose saved checkpoint differs from `reference` (the keys a safely named adapter of the same
        config saves): name -> (keys missing, keys gained). A checkpoint that was not written misses every key."""
        changes = {}
        for name, keys in self.saved.items():
            keys = keys or frozenset()
            if keys != reference:
                changes[name] = (reference - keys, keys - reference)
        return changes

    def damaged(self, name: str, reference: frozenset[str]) -> bool:
        """The adapter's checkpoint lost or gained keys, its reload raised, or it lost tensors."""
        return (
            name in self.checkpoint_changes(reference)
            or self.reload_error_adapter == name
            or bool(self.lost.get(name))
        )

    @property
    def round_trips(self) -> bool:
        """Nothing raised and every tensor of every adapter came back."""
        return self.raised is None and not any(self.lost.values())

    def summary(self) -> str:
        def err(e: BaseException | None) -> str:
            return f"{type(e).__name__}: {e}" if e else "-"

        lost = ", ".join(f"{n!r} {len(self.lost[n])}/{len(self.before[n])}" for n in self.lost) or "-"
        saved = ", ".join(f"{n!r} {None if k is None else len(k)} keys" for n, k in self.saved.items()) or "-"
        return (
            f"peft {PEFT_VERSION} names={self.names!r}: create {err(self.create_error)}; save {err(self.save_error)}; "
            f"reload {err(self.reload_error)} (at {self.reload_error_adapter!r}); lost {lost}; saved {saved}"
        )


def round_trip(
    directory: Path,
    names: tuple[str, ...],
    config: ConfigFactory,
    make_base: Callable[[], nn.Module] = make_tiny_model,
    after_save: Callable[[Path], None] | None = None,
) -> Outcome:
    """get_peft_model + add_adapter, randomise, save_pretrained, reload into a fresh base under the same
    names (PeftModel.from_pretrained, then load_adapter), and compare every adapter tensor.

    `after_save(directory)` may tamper with the checkpoints (used to prove that a change is noticed)."""
    out = Outcome(tuple(names))
    directory.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = get_peft_model(make_base(), config(), adapter_name=names[0])
            for name in names[1:]:
                model.add_adapter(name, config())
        except Exception as error:  # noqa: BLE001 - the outcome is what is measured
            out.create_error = error
            return _done(out, caught)
        for seed, name in enumerate(names):
            out.before[name] = randomise(model, name, seed=SEED + 1 + seed)
        try:
            model.save_pretrained(str(directory))
        except Exception as error:  # noqa: BLE001
            out.save_error = error
            return _done(out, caught)
        for name in names:
            out.saved[name] = saved_keys(adapter_folder(directory, name))
        if after_save is not None:
            after_save(directory)
        loaded = None
        for name in names:
            try:
                folder = str(adapter_folder(directory, name))
                if loaded is None:
                    loaded = PeftModel.from_pretrained(make_base(), folder, adapter_name=name)
                else:
                    loaded.load_adapter(folder, adapter_name=name)
            except Exception as error:  # noqa: BLE001
                out.reload_error, out.reload_error_adapter = error, name
                break
        for name in names:
            after = adapter_tensors(loaded, name) if loaded is not None else {}
            out.lost[name] = differing(out.before[name], after)
    return _done(out, caught)


def _done(out: Outcome, caught: list) -> Outcome:
    out.warnings = [str(w.message) for w in caught]
    return out


# ---------------------------------------------------------------------------------------------
# Reusing a name


@dataclass
class ReuseOutcome:
    """An adapter exists under `name`; then a second one arrives under the same (or a new) name."""

    name: str
    second_name: str
    error: BaseException | None  # raised by the second load_adapter/add_adapter
    first_before: dict[str, torch.Tensor]  # the first adapter's tensors before the second arrived
    first_after: dict[str, torch.Tensor]  # ... and after
    second_after: dict[str, torch.Tensor]  # the second adapter's tensors after it arrived
    second_expected: dict[str, torch.Tensor] | None = None  # what they should be (load_adapter only)

    @property
    def first_changed(self) -> list[str]:
        return differing(self.first_before, self.first_after)

    @property
    def overwritten(self) -> bool:
        """The earlier adapter's tensors were silently replaced or re-initialised."""
        return self.error is None and bool(self.first_changed)

    def summary(self) -> str:
        err = f"{type(self.error).__name__}: {self.error}" if self.error else "-"
        return (
            f"peft {PEFT_VERSION} {self.name!r} then {self.second_name!r}: raised {err}; "
            f"first adapter changed {len(self.first_changed)}/{len(self.first_before)}"
        )


def save_random_adapter(directory: Path, name: str, config: ConfigFactory, seed: int) -> tuple[Path, dict]:
    """A checkpoint of one adapter with random values; returns its folder and its tensors."""
    model = get_peft_model(make_tiny_model(), config(), adapter_name=name)
    tensors = randomise(model, name, seed=seed)
    model.save_pretrained(str(directory))
    return adapter_folder(directory, name), tensors


def load_twice(directory: Path, name: str, second_name: str, config: ConfigFactory) -> ReuseOutcome:
    """PeftModel.from_pretrained(ckpt1, name), then load_adapter(ckpt2, second_name)."""
    folder1, tensors1 = save_random_adapter(directory / "one", name, config, seed=11)
    folder2, tensors2 = save_random_adapter(directory / "two", name, config, seed=22)
    model = PeftModel.from_pretrained(make_tiny_model(), str(folder1), adapter_name=name)
    first_before = snapshot(model, name)
    assert not differing(tensors1, first_before), "the first checkpoint does not even load"
    error = None
    try:
        model.load_adapter(str(folder2), adapter_name=second_name)
    except Exception as e:  # noqa: BLE001
        error = e
    return ReuseOutcome(
        name, second_name, error, first_before, snapshot(model, name), snapshot(model, second_name), tensors2
    )


def add_twice(name: str, second_name: str, config: ConfigFactory) -> ReuseOutcome:
    """get_peft_model(name), randomise, then PeftModel.add_adapter(second_name)."""
    model = get_peft_model(make_tiny_model(), config(), adapter_name=name)
    first_before = randomise(model, name, seed=11)
    error = None
    try:
        model.add_adapter(second_name, config())
    except Exception as e:  # noqa: BLE001
        error = e
    return ReuseOutcome(name, second_name, error, first_before, snapshot(model, name), snapshot(model, second_name))


def corrupt_checkpoint(folder: Path) -> None:
    """Overwrite one tensor of a saved checkpoint (used to prove the comparison notices a change)."""
    path = folder / CHECKPOINT
    tensors = load_file(str(path))
    key = sorted(tensors)[0]
    tensors[key] = tensors[key] + 1
    save_file(tensors, str(path))


REFERENCE_NAME = "adapter_reference"


def reference_keys(
    directory: Path, config: ConfigFactory, make_base: Callable[[], nn.Module] = make_tiny_model
) -> frozenset[str]:
    """The checkpoint keys of a safely named adapter of this config (adapter names never reach saved keys)."""
    out = round_trip(directory, (REFERENCE_NAME,), config, make_base)
    assert out.round_trips, out.summary()
    keys = out.saved[REFERENCE_NAME]
    assert keys, out.summary()
    return keys
