"""The experiment itself: safe names round-trip, and a changed tensor is noticed (else "absent" proves nothing)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from peft import get_peft_model
from torch import nn

from .experiment import (
    adapter_folder,
    adapter_tensors,
    corrupt_checkpoint,
    ia3,
    lora,
    randomise,
    reference_keys,
    round_trip,
    snapshot,
)


def test_tiny_model_fixture(tiny_model) -> None:
    assert isinstance(tiny_model.q_proj, nn.Linear) and isinstance(tiny_model.v_proj, nn.Linear)
    assert isinstance(tiny_model.head, nn.Linear)
    assert all(p.device.type == "cpu" for p in tiny_model.parameters())


def test_tiny_llama_fixture(tiny_llama) -> None:
    assert tiny_llama.config.hidden_size == 16
    assert sum(p.numel() for p in tiny_llama.parameters()) < 10_000


@pytest.mark.parametrize(
    "names, config, tensors",
    [
        (("default",), lora(), 4),
        (("default", "adapter_other"), lora(), 4),
        (("default",), lora(["head"]), 6),
        (("default", "adapter_other"), lora(["head"]), 6),
        (("default",), ia3(), 2),
    ],
    ids=["lora", "lora-two", "lora-head", "lora-head-two", "ia3"],
)
def test_safe_names_round_trip(names, config, tensors, tmp_path: Path) -> None:
    out = round_trip(tmp_path / "adapters", names, config)
    assert out.round_trips, out.summary()
    assert all(len(t) == tensors for t in out.before.values()), out.summary()
    assert not out.checkpoint_changes(reference_keys(tmp_path / "reference", config)), out.summary()


def test_randomise_changes_every_tensor(tiny_model) -> None:
    model = get_peft_model(tiny_model, lora(["head"])())
    initial = snapshot(model, "default")
    randomised = randomise(model, "default")
    assert initial.keys() == randomised.keys() == adapter_tensors(model, "default").keys()
    assert not any(torch.equal(initial[k], randomised[k]) for k in initial)  # lora_B starts at zero


def test_a_changed_tensor_is_noticed(tmp_path: Path) -> None:
    out = round_trip(
        tmp_path / "adapters",
        ("default", "adapter_other"),
        lora(),
        after_save=lambda d: corrupt_checkpoint(adapter_folder(d, "adapter_other")),
    )
    assert out.raised is None
    assert out.lost_count("default") == 0 and out.lost_count("adapter_other") == 1, out.summary()
    assert not out.round_trips
