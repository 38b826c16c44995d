"""Key tests (state_dict.key_tests) and the filtered collections they find (state_dict.filtered)."""

from __future__ import annotations

import ast

import pytest

from flake8_peft_names.module_scan import collect
from flake8_peft_names.state_dict.filtered import Form, filtered_collections
from flake8_peft_names.state_dict.key_tests import ConditionReader, KeyTestKind
from flake8_peft_names.state_dict.markers import Needle
from flake8_peft_names.state_dict.values import Iteration, Kind, RawValues, Value


def _tests(condition: str, prelude: str = ""):
    """The tests of `condition` about the key `k` and the value `v` of a model's state dict."""
    tree = ast.parse(f"{prelude}\n({condition})")
    facts = collect(tree)
    last = tree.body[-1]
    assert isinstance(last, ast.Expr)
    iteration = Iteration(Value(Kind.MODEL_STATE), key="k", value="v")
    return ConditionReader(facts, RawValues(facts)).tests(last.value, iteration, facts.module_scope)


def _summary(condition: str, prelude: str = "") -> list[tuple[KeyTestKind, bool, Needle | None]]:
    return [(t.kind, t.positive, t.needle) for t in _tests(condition, prelude)]


LORA = Needle(marker="lora")
NEEDLE, GRAD = KeyTestKind.NEEDLE, KeyTestKind.GRAD


@pytest.mark.parametrize(
    "condition, expected",
    [
        ('"lora" in k', [(NEEDLE, True, LORA)]),
        ('"lora" not in k', [(NEEDLE, False, LORA)]),
        ('not "lora" in k', [(NEEDLE, False, LORA)]),
        ('not ("lora" not in k)', [(NEEDLE, True, LORA)]),
        ('"lora" in k.lower()', [(NEEDLE, True, LORA)]),
        ('"lora" in str(k)', [(NEEDLE, True, LORA)]),
        ('k.startswith("lora")', [(NEEDLE, True, LORA)]),
        ('k.endswith(("weight", "lora"))', [(NEEDLE, True, LORA)]),
        ('k.startswith("base_model")', []),
        ('k.find("lora") != -1', [(NEEDLE, True, LORA)]),
        ('k.find("lora") == -1', [(NEEDLE, False, LORA)]),
        ('k.find("lora") >= 0', [(NEEDLE, True, LORA)]),
        ('k.split(".")[-2] == adapter_name', [(NEEDLE, True, Needle(adapter="adapter_name"))]),
        ('"lora" in k.split(".")', [(NEEDLE, True, LORA)]),
        ('"lora" in other', []),  # not the key
        ("v.requires_grad", [(GRAD, True, None)]),
        ("not v.requires_grad", [(GRAD, False, None)]),
        ("v.requires_grad is False", [(GRAD, False, None)]),
        ("v.requires_grad == True", [(GRAD, True, None)]),
        ('"lora" in k and v.requires_grad', [(NEEDLE, True, LORA), (GRAD, True, None)]),
        ('"lora" in k or "bias" in k', [(NEEDLE, True, LORA)]),
    ],
)
def test_tests_and_their_polarity(condition: str, expected: list) -> None:
    assert _summary(condition) == expected


def test_any_over_markers() -> None:
    expected = [(NEEDLE, True, Needle(marker="lora_A"))]
    assert _summary('any(m in k for m in ("lora_A", "lora_B"))') == expected
    assert _summary('any(k.startswith(m) for m in ["lora_A"])') == expected
    assert _summary('any(m in k for m in ("weight", "bias"))') == []
    assert _summary('any(m in other for m in ("lora_A",))') == []


def test_all_is_no_key_test() -> None:
    assert _summary('all(m in k for m in ("lora_A", "lora_B"))') == []


def test_regex_searches() -> None:
    expected = [(NEEDLE, True, Needle(marker="lora_"))]
    assert _summary('re.search("lora_", k)', "import re") == expected
    assert _summary('re.fullmatch(".*lora_.*", k)', "import re")[0][:2] == (NEEDLE, True)
    assert _summary("PATTERN.search(k)", 'import re\nPATTERN = re.compile("lora_")') == expected
    assert _summary('re.search(k, "lora_")', "import re") == []  # the key is the pattern
    assert _summary('search("lora_", k)') == []  # not re's


def test_names_of_trainable_parameters_are_a_grad_test() -> None:
    prelude = "trainable = {n for n, p in model.named_parameters() if p.requires_grad}"
    assert _summary("k in trainable", prelude) == [(GRAD, True, None)]
    assert _summary("k not in trainable", prelude) == [(GRAD, False, None)]
    assert _summary("k in trainable", "trainable = {n for n, p in model.named_parameters() if 'x' in n}") == []


def _collections(source: str):
    facts = collect(ast.parse(source))
    return list(filtered_collections(facts).by_node.values())


def test_a_dict_comprehension_filtered_by_a_marker() -> None:
    (item,) = _collections('sd = {k: v for k, v in model.state_dict().items() if "lora" in k}')
    assert item.form is Form.DICT and isinstance(item.node, ast.DictComp)
    assert item.simple and not item.escapes and not item.grad
    assert [t.needle for t in item.needles] == [LORA]
    assert item.iteration.walked.kind is Kind.MODEL_STATE and item.iteration.walked.model.text == "model"
    assert item.value == Value(Kind.MANUAL, item.iteration.walked.model)


def test_a_complement_filter_has_no_needles() -> None:
    (item,) = _collections('sd = {k: v for k, v in model.state_dict().items() if "lora" not in k}')
    assert item.needles == [] and item.value is None


def test_an_escape_clause_makes_no_key_filter() -> None:
    (item,) = _collections('sd = {k: v for k, v in model.state_dict().items() if "lora" in k or not only}')
    assert item.escapes and item.needles == []


def test_a_requires_grad_filter_over_named_parameters() -> None:
    (item,) = _collections("sd = {n: p for n, p in model.named_parameters() if p.requires_grad}")
    assert item.grad and item.needles == []
    assert item.value is not None and item.value.kind is Kind.GRAD


def test_values_computed_from_the_parameters_are_no_filtered_state_dict() -> None:
    assert _collections('g = {n: p.grad for n, p in model.named_parameters() if "lora" in n}') == []


def test_lists_of_keys_and_of_pairs() -> None:
    (keys,) = _collections('names = [k for k in model.state_dict() if "lora" in k]')
    assert keys.form is Form.KEYS and keys.value is None
    (pairs,) = _collections('pairs = [(n, p) for n, p in model.named_parameters() if "lora" in n]')
    assert pairs.form is Form.PAIRS


def test_dict_of_a_filter_call() -> None:
    (item,) = _collections('sd = dict(filter(lambda kv: "lora" in kv[0], model.state_dict().items()))')
    assert item.form is Form.DICT and isinstance(item.node, ast.Call) and item.simple
    assert [t.needle for t in item.needles] == [LORA]


def test_a_loop_that_fills_a_dict_and_its_guard_form() -> None:
    filled = "out = {}\nfor k, v in model.state_dict().items():\n    if 'lora' in k:\n        out[k] = v.cpu()\n"
    (item,) = _collections(filled)
    assert item.form is Form.LOOP and item.target is not None and item.target[0] == "out"
    guarded = (
        "out = {}\nfor k, v in model.state_dict().items():\n    if 'lora' not in k:\n        continue\n    out[k] = v\n"
    )
    (guard,) = _collections(guarded)
    assert guard.form is Form.LOOP and [t.positive for t in guard.tests] == [True]


def test_a_filter_of_something_that_is_no_model_is_not_collected() -> None:
    assert _collections('sd = {k: v for k, v in config.items() if "lora" in k}') == []
    assert _collections('sd = {k: v for k, v in optimizer.state_dict().items() if "lora" in k}') == []
