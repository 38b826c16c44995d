"""`adapter_sites.binds`: a call follows a helper only when Python can bind its arguments."""
from __future__ import annotations

import ast

import pytest

from flake8_peft_names.adapter_sites import binds

DEFINITION = "def f(a, b, /, c, d=1, *, e, g=2): ..."


@pytest.mark.parametrize(
    ("call", "bound"),
    [
        ("f(1, 2, 3, e=4)", True),
        ("f(1, 2, c=3, e=4, g=5)", True),
        ("f(1, 2, 3, 4, e=5)", True),
        ("f(1, 2, e=4)", False),  # c missing
        ("f(1, 2, 3)", False),  # e missing (keyword-only, no default)
        ("f(1, 2, 3, 4, 5, e=6)", False),  # one too many
        ("f(1, b=2, c=3, e=4)", False),  # b is positional-only
        ("f(1, 2, 3, c=3, e=4)", False),  # c twice
        ("f(1, 2, 3, e=4, h=5)", False),  # unknown keyword
        ("f(*xs, e=4)", True),  # may bind: not known
        ("f(1, 2, **options)", True),
    ],
)
def test_binding_follows_python(call: str, bound: bool) -> None:
    function = ast.parse(DEFINITION).body[0]
    assert isinstance(function, ast.FunctionDef)
    parsed = ast.parse(call, mode="eval").body
    assert isinstance(parsed, ast.Call)
    assert binds(parsed, function, method=False) is bound


def test_a_method_leaves_self_out_and_varargs_take_the_rest() -> None:
    method = ast.parse("def m(self, path, name='x', *rest, **options): ...").body[0]
    assert isinstance(method, ast.FunctionDef)
    for call, bound in [("self.m('p')", True), ("self.m('p', 'n', 1, 2, k=3)", True), ("self.m()", False)]:
        parsed = ast.parse(call, mode="eval").body
        assert isinstance(parsed, ast.Call)
        assert binds(parsed, method, method=True) is bound
