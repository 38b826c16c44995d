"""Which uses of a value let a rename through, and which block it (rename_roles)."""
from __future__ import annotations

import ast
import textwrap

import pytest

from flake8_peft_names.module_scan import collect
from flake8_peft_names.rename_roles import rename_scope

HEAD = "from peft import get_peft_model\nmodel = get_peft_model(base, config, adapter_name='lora')\n"


def scope_of(body: str):
    return rename_scope(collect(ast.parse(HEAD + textwrap.dedent(body))), "lora")


@pytest.mark.parametrize(
    "body",
    [
        "assert model.active_adapter == 'lora'\n",
        "assert 'lora' in model.peft_config\n",
        "r = model.peft_config['lora'].r\n",
        "w = model.base_model.model.q_proj.lora_B['lora'].weight\n",
        "model.set_adapter(['lora'])\n",
        "assert model.active_adapters[0] == 'lora'\n",
        "print('lora')\n",
        "'''lora'''\n",
    ],
)
def test_adapter_name_roles_allow_the_rename_and_are_renamed(body: str) -> None:
    scope = scope_of(body)
    assert scope.blocker is None, scope.reason()
    assert scope.lines == [2, 3] or body.startswith("'''") and scope.lines == [2]


@pytest.mark.parametrize(
    "body, role",
    [
        ("if METHOD == 'lora':\n    pass\n", "is compared with METHOD"),
        ("path = os.path.join(out, 'lora')\n", "builds a path (join())"),
        ("path = out / 'lora'\n", "builds a path"),
        ("name = f'{x}' + 'lora'\n", "builds another value"),
        ("model.train_adapter('lora')\n", "is passed to train_adapter()"),
        ("d = {'lora': 1}\n", "is in a dict"),
        ("table['lora'] = 1\n", "is a key of table"),
        ("p.add_argument('--m', default='lora', help='method (default: %(default)s)')\n",
         "is a command-line flag's documented default"),
    ],
)
def test_other_roles_block_the_rename_and_say_where(body: str, role: str) -> None:
    scope = scope_of(body)
    assert scope.blocker is not None
    assert scope.blocker.line == 3
    assert role in scope.reason()


def test_a_constant_is_followed_to_every_read() -> None:
    source = "from peft import get_peft_model\nNAME = 'lora'\nm = get_peft_model(b, c, adapter_name=NAME)\n"
    allowed = rename_scope(collect(ast.parse(source)), "lora")
    assert allowed.blocker is None and allowed.lines == [2]
    blocked = rename_scope(collect(ast.parse(source + "folder = 'out/' + NAME\n")), "lora")
    assert blocked.blocker is not None and blocked.blocker.line == 4


def test_places_lists_every_line() -> None:
    scope = scope_of("assert model.active_adapter == 'lora'\nx = model.peft_config['lora']\n")
    assert scope.places() == "3 places: lines 2, 3, 4"
