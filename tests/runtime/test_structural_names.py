"""Measurement: do the structural names `base_model`, `modules_to_save`, `model` and `bias` break anything?

They decide whether these names stay in `peft_facts.STRUCTURAL_KEY_COMPONENTS`. Each scenario runs the
standard round trip and is described in a few words; the description must match what was measured for the
installed peft (`MEASURED`). For a peft version not measured yet the test only checks that the experiment
runs and prints the description (run with `-s`), so a new version can be added to the table.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .experiment import PEFT_VERSION, Outcome, lora, reference_keys, round_trip

SCENARIOS = {
    "base_model alone": (("base_model",), None),
    "base_model second": (("default", "base_model"), None),
    "modules_to_save alone": (("modules_to_save",), ["head"]),
    "modules_to_save second": (("default", "modules_to_save"), ["head"]),
    "model alone": (("model",), None),
    "model second": (("default", "model"), None),
    # `bias` and its prefixes on a config with bias="none" and no modules_to_save: no key has a `bias` component
    "bias alone": (("bias",), None),
    "bias second": (("default", "bias"), None),
    "b second": (("default", "b"), None),
}

OK = "ok"
MEASURED = {
    "0.17.1": {
        # `base_model` is inside every key, so its checkpoint also takes default's tensors; reload ignores them.
        "base_model alone": OK,
        "base_model second": "'base_model' checkpoint +4 keys",
        "modules_to_save alone": OK,
        "modules_to_save second": OK,
        # `.model` is stripped from every key (base_model.model.q_proj -> base_model.q_proj): all lost.
        "model alone": "'model' lost 4/4; 'model' checkpoint -4 keys +4 keys",
        "model second": "'model' lost 4/4; 'model' checkpoint -4 keys +8 keys",
        # no tensor is lost: saving keeps every key with "bias" in it, so default's file also carries the
        # `bias` adapter's tensors (reload ignores them); `b` is inside `base_model`, like `base_model` above.
        "bias alone": OK,
        "bias second": "'default' checkpoint +4 keys",
        "b second": "'b' checkpoint +4 keys",
    },
    "0.20.0": {
        "base_model alone": OK,
        "base_model second": OK,
        "modules_to_save alone": OK,
        "modules_to_save second": "save raises KeyError",
        "model alone": OK,
        # default's checkpoint also carries the tensors of `model` (lora_A.model.weight); reload ignores them.
        "model second": "'default' checkpoint +4 keys",
        "bias alone": OK,
        "bias second": OK,
        "b second": OK,
    },
}
MEASURED["0.21.2"] = MEASURED["0.20.0"]


def describe(out: Outcome, reference: frozenset[str]) -> str:
    """`ok`, or what broke: exceptions, lost tensors, checkpoints that lost or gained keys."""
    if out.create_error is not None:
        return f"create raises {type(out.create_error).__name__}"
    if out.save_error is not None:
        return f"save raises {type(out.save_error).__name__}"
    parts = []
    if out.reload_error is not None:
        parts.append(f"reload of {out.reload_error_adapter!r} raises {type(out.reload_error).__name__}")
    parts += [f"{n!r} lost {len(lost)}/{len(out.before[n])}" for n, lost in out.lost.items() if lost]
    for name, (missing, gained) in out.checkpoint_changes(reference).items():
        change = " ".join(f"{sign}{len(keys)} keys" for sign, keys in (("-", missing), ("+", gained)) if keys)
        parts.append(f"{name!r} checkpoint {change}")
    return "; ".join(parts) or OK


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_structural_name_measurement(scenario: str, tmp_path: Path) -> None:
    names, modules_to_save = SCENARIOS[scenario]
    config = lora(modules_to_save)
    out = round_trip(tmp_path / "adapters", names, config)
    got = describe(out, reference_keys(tmp_path / "reference", config))
    print(f"peft {PEFT_VERSION} | {scenario}: {got}")
    measured = MEASURED.get(str(PEFT_VERSION))
    if measured is not None:
        assert got == measured[scenario], out.summary()
