"""`ModuleFacts.resolve` costs in proportion to the bindings it reads, never to the paths through them.

A value bound many times to expressions that read other bindings (a model file assigning `x.hidden = y.hidden`
hundreds of times) made the resolution exponential: a 4,300-line transformers module with one adapter call did
not finish in 200 s. These tests count the resolution steps, so they fail on a return of that, on any machine."""
from __future__ import annotations

import ast

import pytest

from flake8_peft_names.module_facts import MAX_DEPTH, ModuleFacts
from flake8_peft_names.module_scan import collect


def _resolve_last_call(source: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, int]:
    facts = collect(ast.parse(source))
    steps = 0
    inner = ModuleFacts._resolve

    def counted(self: ModuleFacts, *args: object) -> object:
        nonlocal steps
        steps += 1
        return inner(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ModuleFacts, "_resolve", counted)
    (call, scope), = facts.calls
    resolved = facts.resolve(call.keywords[0].value, scope)
    return (resolved.value if resolved else None), steps


def test_attributes_bound_to_each_other_cost_one_step_per_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    bindings = "".join(f"a{i}.hidden = b{i}.hidden\n" for i in range(40))
    source = f'o.hidden = "lora"\n{bindings}model.load_adapter("p", adapter_name=z.hidden)\n'
    value, steps = _resolve_last_call(source, monkeypatch)
    assert value is None  # `hidden` is "lora" or whatever `hidden` is: not known statically
    assert steps <= 2 * 41 + 2


def test_a_diamond_of_names_resolves_once_per_name(monkeypatch: pytest.MonkeyPatch) -> None:
    layers = MAX_DEPTH - 2
    lines = ['n0 = "lora"'] + [f"n{i} = n{i - 1}\nn{i} = n{i - 1}" for i in range(1, layers)]
    source = "\n".join(lines) + f"\nmodel.load_adapter('p', adapter_name=n{layers - 1})\n"
    value, steps = _resolve_last_call(source, monkeypatch)
    assert value == "lora"
    assert steps <= 2 * layers + 2  # 2 ** layers without the memo


def test_a_chain_longer_than_the_bound_is_unknown_without_deep_recursion(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ['n0 = "lora"'] + [f"n{i} = n{i - 1}" for i in range(1, 400)]
    source = "\n".join(lines) + "\nmodel.load_adapter('p', adapter_name=n399)\n"
    value, steps = _resolve_last_call(source, monkeypatch)
    assert value is None
    assert steps <= MAX_DEPTH + 2


def test_a_cut_chain_is_not_kept_as_unknown_for_a_shorter_question(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ['n0 = "lora"'] + [f"n{i} = n{i - 1}" for i in range(1, 40)]
    calls = "model.load_adapter('p', adapter_name=n39)\nmodel.load_adapter('p', adapter_name=n5)\n"
    source = "\n".join(lines) + "\n" + calls
    facts = collect(ast.parse(source))
    (far, far_scope), (near, near_scope) = sorted(facts.calls, key=lambda item: item[0].lineno)
    assert facts.resolve(far.keywords[0].value, far_scope) is None
    near_value = facts.resolve(near.keywords[0].value, near_scope)
    assert near_value is not None and near_value.value == "lora"
