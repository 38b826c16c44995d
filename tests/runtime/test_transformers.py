"""transformers' PeftAdapterMixin: an empty adapter name silently becomes "default"."""
from __future__ import annotations

import pytest
from peft import LoraConfig, get_peft_model


def _config() -> LoraConfig:
    return LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"])


def test_add_adapter_empty_name_silently_uses_default(tiny_llama) -> None:
    tiny_llama.add_adapter(_config(), adapter_name="")  # noqa: PFT101 - no exception, no rename
    assert list(tiny_llama.peft_config) == ["default"]
    assert tiny_llama.active_adapters() == ["default"]
    lora_params = [n for n, _ in tiny_llama.named_parameters() if ".lora_" in n]
    assert lora_params and all(".default." in n for n in lora_params), lora_params


def test_peft_rejects_the_same_empty_name(tiny_llama) -> None:
    """The contrast: peft itself raises for "" (empty-name), on the same model."""
    with pytest.raises(KeyError, match="empty string"):
        get_peft_model(tiny_llama, _config(), adapter_name="")  # noqa: PFT101
