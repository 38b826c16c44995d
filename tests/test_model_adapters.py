"""Which adapter a model has, for the state-dict fixes: factories written with or without their module."""
from __future__ import annotations

import ast
from typing import Optional

import pytest

from flake8_peft_names.model_adapters import adapter_of
from flake8_peft_names.module_scan import collect


def adapter(source: str, model: str = "model") -> Optional[str]:
    use = adapter_of(collect(ast.parse(source)), model)
    return None if use is None else use.value


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from peft import get_peft_model\nmodel = get_peft_model(base, config)\n", "default"),
        ("import peft\nmodel = peft.get_peft_model(base, config)\n", "default"),
        ("import peft\nmodel = peft.get_peft_model(base, config, adapter_name='sft')\n", "sft"),
        ("from peft import PeftModel\nmodel = PeftModel.from_pretrained(base, path, adapter_name='dpo')\n", "dpo"),
        ("model.load_adapter(path, adapter_name='a')\nmodel.load_adapter(path, adapter_name='b')\n", None),
        ("import peft\nother = peft.get_peft_model(base, config, adapter_name='sft')\n", None),
    ],
)
def test_the_adapter_a_model_is_given(source: str, expected: Optional[str]) -> None:
    assert adapter(source) == expected
