"""What every fix script shares: a tiny model, its adapters' tensors randomised, and the result line.

Each script prints one line `PFT_RESULT {"adapters": {label: [restored, total]}}` (tests/test_fix_run.py
reads it) and exits 0 when it ran to the end. Nothing here is downloaded; a script runs in a few seconds."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from tiny_model import TinyModel  # copied beside this file (tests/tiny_model.py)

MARKERS = ("lora_", "ia3_")


def base() -> TinyModel:
    torch.manual_seed(0)
    return TinyModel()


def lora_config(**extra):
    from peft import LoraConfig

    return LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], **extra)


def randomise(model: nn.Module) -> dict[str, torch.Tensor]:
    """Every adapter tensor set to random values (so that a re-initialised one shows); copies of them."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, tensor in model.state_dict(keep_vars=True).items():
            if any(marker in name for marker in MARKERS):
                tensor.copy_(torch.randn(tensor.shape, generator=generator))
    return {k: v.detach().clone() for k, v in model.state_dict().items() if any(m in k for m in MARKERS)}


def restored(before: dict[str, torch.Tensor], model: nn.Module) -> list[int]:
    """[tensors that came back with the same values, tensors there were]."""
    now = model.state_dict()
    return [sum(1 for k, v in before.items() if k in now and torch.equal(v, now[k])), len(before)]


def saved_dir(directory: str) -> str:
    """The folder save_pretrained wrote the (one) adapter into: `directory`, or its adapter's subfolder."""
    found = sorted(p.parent for p in Path(directory).rglob("adapter_config.json"))
    assert len(found) == 1, found
    return str(found[0])


def report(**adapters: list[int]) -> None:
    print("PFT_RESULT " + json.dumps({"adapters": adapters}), flush=True)


def inject_own_lora(model: TinyModel) -> TinyModel:
    """A project's own LoRA (no peft): each target gets `lora_A`/`lora_B` next to its weight."""
    for target in ("q_proj", "v_proj"):
        layer = getattr(model, target)
        layer.lora_A = nn.Parameter(torch.zeros(2, 8))
        layer.lora_B = nn.Parameter(torch.zeros(8, 2))
    return model


def ia3_config():
    from peft import IA3Config

    return IA3Config(target_modules=["q_proj", "v_proj"], feedforward_modules=[])
