"""The method table in peft_facts.py against the installed peft's own mappings."""
from __future__ import annotations

import peft
from peft import PEFT_TYPE_TO_CONFIG_MAPPING
from peft.config import PromptLearningConfig
from peft.mapping import PEFT_TYPE_TO_PREFIX_MAPPING

from flake8_peft_names.peft_facts import METHOD_TABLE_PEFT_VERSION, METHODS, METHODS_BY_TYPE


# Methods of older peft releases that 0.21.2 no longer has (Bone became MiSS).
REMOVED_BY_0_21 = {"BONE"}


def installed_table() -> dict[str, tuple[str, str, bool]]:
    return {
        peft_type.value: (
            config.__name__,
            PEFT_TYPE_TO_PREFIX_MAPPING.get(peft_type),
            issubclass(config, PromptLearningConfig),
        )
        for peft_type, config in PEFT_TYPE_TO_CONFIG_MAPPING.items()
    }


def test_method_table_matches_installed_peft() -> None:
    ours = {m.peft_type: (m.config_class, m.prefix, m.prompt_learning) for m in METHODS}
    theirs = installed_table()
    if peft.__version__ == METHOD_TABLE_PEFT_VERSION:
        assert ours == theirs
        assert len(METHODS) == 45
    else:  # an older peft: the methods both know agree; it may know methods peft 0.21.2 removed
        common = set(theirs) & set(ours)
        assert {t: theirs[t] for t in common} == {t: ours[t] for t in common}
        assert set(theirs) - set(ours) <= REMOVED_BY_0_21


def test_parameter_names_match_the_tuner_layers() -> None:
    from peft import PEFT_TYPE_TO_TUNER_MAPPING

    for peft_type, tuner in PEFT_TYPE_TO_TUNER_MAPPING.items():
        layer = getattr(tuner, "tuner_layer_cls", None)
        names = tuple(getattr(layer, "adapter_layer_names", ()) or ())
        if peft_type.value in REMOVED_BY_0_21:
            continue
        method = METHODS_BY_TYPE[peft_type.value]
        if peft_type.value == "ADALORA":  # AdaLoRA's layer adds lora_E and ranknum to LoRA's
            assert {"lora_A", "lora_B"} <= set(method.param_names)
            continue
        assert set(names) <= set(method.param_names), peft_type
