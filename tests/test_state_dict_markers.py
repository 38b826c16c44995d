"""Key markers (state_dict.markers): what a key test looks for, read from small snippets in-process."""

from __future__ import annotations

import ast

import pytest

from flake8_peft_names.module_scan import collect
from flake8_peft_names.state_dict.markers import Needle, needle_of


def _needle(source: str, regex: bool = False):
    """The needle of the value of the snippet's last statement (`x = <needle>`), at module scope."""
    tree = ast.parse(source)
    facts = collect(tree)
    last = tree.body[-1]
    assert isinstance(last, (ast.Assign, ast.Expr))
    return needle_of(facts, last.value, facts.module_scope, regex=regex)


@pytest.mark.parametrize(
    "literal, bare",
    [('"lora"', True), ('"lora_"', True), ('".lora_A."', False), ('"ia3_"', True), ('"hada_w1"', False)],
)
def test_a_method_marker_literal(literal: str, bare: bool) -> None:
    needle = _needle(f"x = {literal}")
    assert needle == Needle(marker=ast.literal_eval(literal))
    assert needle.bare_prefix is bare
    assert not needle.modules_to_save


@pytest.mark.parametrize("literal", ['"weight"', '"encoder.layer"', '""'])
def test_text_without_a_marker_is_no_needle(literal: str) -> None:
    assert _needle(f"x = {literal}") is None


@pytest.mark.parametrize("foreign", ['"lora_down"', '"lora_up.weight"', '"lora_unet"', '"lora_te1"', '"lora_layer"'])
def test_foreign_lora_markers_are_not_peft_markers(foreign: str) -> None:
    assert _needle(f"x = {foreign}") is None


def test_modules_to_save_is_a_marker_of_its_own() -> None:
    needle = _needle('x = "modules_to_save"')
    assert needle == Needle(marker="modules_to_save")
    assert needle.modules_to_save and not needle.bare_prefix


def test_a_common_word_prefix_counts_only_where_the_module_names_its_method() -> None:
    assert _needle('x = "road_"') is None
    assert _needle('from peft import RoadConfig\nc = RoadConfig()\nx = "road_"') == Needle(marker="road_")


def test_a_constant_variable_is_resolved() -> None:
    assert _needle('MARKER = "lora_"\nx = MARKER') == Needle(marker="lora_")


@pytest.mark.parametrize("variable", ["adapter_name", "adapter", "active_adapter", "self.adapter_name", "adapter_id"])
def test_an_adapter_name_variable(variable: str) -> None:
    assert _needle(f"x = {variable}") == Needle(adapter=variable)


def test_a_variable_that_is_no_adapter_name_is_no_needle() -> None:
    assert _needle("x = prefix") is None


def test_an_adapter_name_literal_counts_only_when_the_module_uses_that_name() -> None:
    assert _needle('x = "sft"') is None
    assert _needle('model.set_adapter("sft")\nx = "sft"') == Needle(adapter='"sft"')
    assert _needle('get_peft_model(m, c, adapter_name="sft")\nx = "layers.sft.weight"') == Needle(adapter='"sft"')


def test_f_strings() -> None:
    assert _needle('x = f".{adapter_name}."') == Needle(adapter="adapter_name")
    assert _needle('x = f"modules_to_save.{adapter_name}"') == Needle(marker="modules_to_save.", adapter="adapter_name")
    assert _needle('x = f"lora_A.{adapter_name}"').modules_to_save is False
    assert _needle('x = f"{adapter_name!r}"') is None  # a conversion: the text is not plain
    assert _needle('x = f"{layer}.weight"') is None


def test_concatenation() -> None:
    assert _needle('x = "lora_A." + adapter_name') == Needle(marker="lora_A.", adapter="adapter_name")
    assert _needle('x = "lora_A." + suffix') == Needle(marker="lora_A.")
    assert _needle('x = "weight." + suffix') is None


def test_regexes() -> None:
    assert _needle('x = r"\\.lora_[AB]\\."', regex=True) == Needle(marker="\\.lora_[AB]\\.")
    assert _needle('x = r"(lora|ia3)"', regex=True) == Needle(marker="(lora|ia3)")
    assert _needle('x = r"lora_down\\.weight"', regex=True) is None  # kohya's keys
    assert _needle('x = r"explora"', regex=True) is None  # not at a word start
    assert _needle('x = r"weight$"', regex=True) is None
