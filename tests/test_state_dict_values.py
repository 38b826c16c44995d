"""What state-dict expressions hold (state_dict.values, phase 1; state_dict.view, the final view) and where
they go (state_dict.flows)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

import pytest

import flake8_peft_names.state_dict as state_dict_package
from flake8_peft_names.module_facts import ModuleFacts, Scope
from flake8_peft_names.module_scan import collect
from flake8_peft_names.state_dict.models import ModelRef
from flake8_peft_names.state_dict.values import Kind, RawValues, Value
from flake8_peft_names.state_dict.view import state_dicts


def _last(source: str) -> tuple[ModuleFacts, ast.expr, Scope]:
    """The facts of a snippet and the expression of its last statement (in its function, if it ends in one)."""
    tree = ast.parse(source)
    facts = collect(tree)
    last: ast.stmt = tree.body[-1]
    scope = facts.module_scope
    if isinstance(last, ast.FunctionDef):
        scope = facts.scope_of[id(last)]
        last = last.body[-1]
    assert isinstance(last, (ast.Expr, ast.Assign, ast.Return)) and last.value is not None
    return facts, last.value, scope


def _final(source: str) -> Optional[Value]:
    facts, expr, scope = _last(source)
    return state_dicts(facts).classify(expr, scope)


def _raw(source: str) -> Optional[Value]:
    facts, expr, scope = _last(source)
    return RawValues(facts).classify(expr, scope)


MODEL = ModelRef("model", verbatim=True)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("model.state_dict()", Value(Kind.MODEL_STATE, MODEL)),
        ("sd = model.state_dict()\nsd", Value(Kind.MODEL_STATE, MODEL)),
        ("accelerator.get_state_dict(model)", Value(Kind.MODEL_STATE, MODEL)),
        ("unwrap(model).state_dict()", Value(Kind.MODEL_STATE, ModelRef("unwrap(model)", True))),
        ("getattr(model, 'module').state_dict()", Value(Kind.MODEL_STATE, ModelRef("getattr(model, 'module')", False))),
        ("super().state_dict()", Value(Kind.MODEL_STATE)),
        ("optimizer.state_dict()", None),
        ("lr_scheduler.state_dict()", None),
        ("model.named_parameters()", Value(Kind.NAMED_PARAMS, MODEL)),
        ("dict(model.named_parameters())", Value(Kind.MODEL_STATE, MODEL)),
        ("list(model.named_parameters())", Value(Kind.NAMED_PARAMS, MODEL)),
        ("list(model.state_dict())", None),
        ("{k: v.cpu() for k, v in model.state_dict().items()}", Value(Kind.MODEL_STATE, MODEL)),
        ("get_peft_model_state_dict(model)", Value(Kind.PEFT_STATE)),
        ("load_peft_weights(path)", Value(Kind.PEFT_STATE)),
        ("model.get_adapter_state_dict()", Value(Kind.PEFT_STATE)),
        ('load_file("out/adapter_model.safetensors")', Value(Kind.ADAPTER_FILE)),
        ('import torch\ntorch.load("out/checkpoint.pt")', Value(Kind.LOADED_FILE)),
        ('import os, torch\ntorch.load(os.path.join(out, "adapter_model.bin"))', Value(Kind.ADAPTER_FILE)),
        (
            'from peft.utils import WEIGHTS_NAME\nimport torch\ntorch.load(f"{out}/{WEIGHTS_NAME}")',
            Value(Kind.ADAPTER_FILE),
        ),
        ("torch.load(path)", None),  # not torch's: `torch` is not imported
        ("model.config", None),
    ],
)
def test_values(source: str, expected: Optional[Value]) -> None:
    assert _final(source) == expected


def test_keys_of_an_opened_adapter_file() -> None:
    source = (
        'with safe_open("a/adapter_model.safetensors", "pt") as f:\n    sd = {k: f.get_tensor(k) for k in f.keys()}\nsd'
    )
    assert _final(source) == Value(Kind.ADAPTER_FILE)


def test_a_peft_state_edited_by_hand_is_no_longer_peft_format() -> None:
    assert _final("sd = get_peft_model_state_dict(model)\nsd") == Value(Kind.PEFT_STATE)
    assert _final('sd = get_peft_model_state_dict(model)\nsd.pop("x")\nsd') is None
    assert _final('sd = get_peft_model_state_dict(model)\nsd["x"] = t\nsd') is None


def test_bindings_must_agree() -> None:
    assert _final("sd = model.state_dict() if a else other.state_dict()\nsd") is None  # not a binding of sd
    agree = "if a:\n    sd = model.state_dict()\nelse:\n    sd = model.state_dict()\nsd"
    assert _final(agree) == Value(Kind.MODEL_STATE, MODEL)
    models = "if a:\n    sd = model.state_dict()\nelse:\n    sd = ema.state_dict()\nsd"
    assert _final(models) == Value(Kind.MODEL_STATE)  # which model is not clear
    kinds = "if a:\n    sd = model.state_dict()\nelse:\n    sd = get_peft_model_state_dict(model)\nsd"
    assert _final(kinds) is None


def test_helpers_return_values() -> None:
    helper = "def weights(m):\n    return m.state_dict()\nweights(model)"
    assert _final(helper) == Value(Kind.MODEL_STATE)
    disagree = "def weights(m, a):\n    if a:\n        return m.state_dict()\n    return {}\nweights(model, 1)"
    assert _final(disagree) is None


def test_parameters_are_what_callers_pass() -> None:
    called = "def save(sd):\n    return sd\nsave(model.state_dict())\ndef save(sd):\n    return sd"
    tree = ast.parse(called)
    facts = collect(tree)
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    ret = function.body[0]
    assert isinstance(ret, ast.Return) and ret.value is not None
    assert state_dicts(facts).classify(ret.value, facts.scope_of[id(function)]) == Value(Kind.MODEL_STATE)
    assert _final("def save(sd):\n    return sd") is None  # no caller
    assert _final("def f(named_params):\n    return named_params") == Value(Kind.NAMED_PARAMS)


FILTERED = 'sd = {k: v for k, v in model.state_dict().items() if "lora" in k}\nsd'
LOOP = "sd = {}\nfor k, v in model.named_parameters():\n    if v.requires_grad:\n        sd[k] = v\nsd"


def test_phase_1_knows_no_filtered_collection_the_final_view_does() -> None:
    assert _raw(FILTERED) is None
    assert _final(FILTERED) == Value(Kind.MANUAL, MODEL)
    assert _raw(LOOP) is None
    assert _final(LOOP) == Value(Kind.GRAD, MODEL)


def _flows(source: str):
    facts = collect(ast.parse(source))
    view = state_dicts(facts)
    (item,) = view.filtered
    return view.flows(item)


LORA = 'lora = {k: v for k, v in model.state_dict().items() if "lora" in k}\n'


def test_saved() -> None:
    flows = _flows(LORA + 'torch.save(lora, "lora.pt")')
    assert flows.saved() and flows.saved(pre_filters=False)
    assert not flows.only_counted() and not flows.into_peft()
    assert _flows(LORA + 'save_file({"state": lora}, "x.safetensors")').saved()  # inside a dict literal
    assert not _flows(LORA + "torch.save(config, lora)").saved()  # the path slot


def test_saved_through_a_copy_loop() -> None:
    source = LORA + "out = {}\nfor k, v in lora.items():\n    out[k] = v.cpu()\ntorch.save(out, 'x.pt')"
    assert _flows(source).saved()


def test_returned_from_a_function_that_says_it_saves() -> None:
    source = "def get_lora_state(model):\n    " + LORA.replace("\n", "\n    ") + "return lora"
    assert _flows(source).saved()
    other = "def count(model):\n    " + LORA.replace("\n", "\n    ") + "return lora"
    assert not _flows(other).saved()


def test_pre_filters() -> None:
    flows = _flows(LORA + "model.save_pretrained(out, state_dict=lora)")
    assert flows.into_save_pretrained() and flows.saved() and not flows.saved(pre_filters=False)
    assert len(flows.pretrained) == 1
    assert _flows(LORA + "get_peft_model_state_dict(model, state_dict=lora)").into_peft()
    assert _flows(LORA + "get_peft_model_state_dict(model, lora)").into_peft()


def test_counted_or_logged_only() -> None:
    assert _flows(LORA + "print(len(lora))").only_counted()
    assert _flows(LORA + "opt = Adam(lora.values())").only_counted()  # an optimizer's parameters
    assert not _flows(LORA + "model.load_state_dict(lora)").only_counted()
    assert _flows(LORA + "n = sum(p.numel() for p in lora.values())").only_counted()
    assert _flows(LORA + "for k, v in lora.items():\n    print(k)").only_counted()
    assert not _flows(LORA + "for k, v in lora.items():\n    v.zero_()").only_counted()
    assert not _flows(LORA).only_counted()  # never used


def test_bookkeeping_only() -> None:
    keys = 'keys = [k for k in model.state_dict() if "lora" in k]\n'
    assert _flows(keys + 'keys.remove("a")\nprint(keys)').bookkeeping_only()
    assert not _flows(keys + 'keys.remove("a")\ntorch.save(keys, "k.pt")').bookkeeping_only()
    assert not _flows(keys + "return_it(keys)").bookkeeping_only()
    assert not _flows(keys + 'keys.remove("a")\nsnapshot = keys.copy()').bookkeeping_only()  # a copy goes on


def test_uses_after_a_rebinding_see_another_value() -> None:
    assert not _flows(LORA + "lora = other()\ntorch.save(lora, 'x.pt')").saved()
    assert _flows(LORA + "lora = {k: v.cpu() for k, v in lora.items()}\ntorch.save(lora, 'x.pt')").saved()


@pytest.mark.parametrize(
    "path, expected",
    [
        ('"{}/adapter_model.bin".format(out)', "adapter_model.bin"),
        ('"{0}/{1}".format(out, "adapter_model.safetensors")', "adapter_model.safetensors"),
        ('"{d}/{f}".format(d=out, f=WEIGHTS_NAME)', "adapter_model.bin"),
        ('"%s/adapter_model.bin" % out', "adapter_model.bin"),
        ('"%s/%s" % (out, "adapter_model.bin")', "adapter_model.bin"),
        ('"%s" % NAME', "adapter_model.safetensors"),
        ('"%d%%/%s" % (n, "adapter_model.bin")', "adapter_model.bin"),
        ('hf_hub_download(repo, "adapter_model.bin")', "adapter_model.bin"),
        ("hf_hub_download(repo_id=repo, filename=NAME)", "adapter_model.safetensors"),
        ('"{}adapter_model.bin".format(out)', None),  # `lora_adapter_model.bin` as well
        ('"%s_%s" % (out, "adapter_model.bin")', None),
        ('"%s/%r" % (out, "adapter_model.bin")', None),
        ('"{}/{!r}".format(out, "adapter_model.bin")', None),
        ('"%(d)s/%(f)s" % {"d": out, "f": "adapter_model.bin"}', None),
        ('"%s/%s" % parts', None),
        ('"{}/pytorch_model.bin".format(out)', None),
        ('hf_hub_download(repo, "model.safetensors")', None),
        ('other_download(repo, "adapter_model.bin")', None),
    ],
)
def test_adapter_file_paths(path: str, expected: Optional[str]) -> None:
    header = (
        "from huggingface_hub import hf_hub_download\nfrom peft.utils import WEIGHTS_NAME\n"
        'NAME = "adapter_model.safetensors"\n'
    )
    facts, expr, scope = _last(header + path)
    assert state_dicts(facts).adapter_file(expr, scope) == expected


@pytest.mark.parametrize(
    "source, expected",
    [
        ("False", False),
        ("strict = False\nstrict", False),
        ("strict = not True\nstrict", False),
        ("a = False\nb = a\nb", False),
        ("strict = False\nstrict = True\nstrict", None),  # bindings that disagree
        ("def f(strict=False):\n    return strict", None),  # callers may pass another value
        ("args.strict", None),
        ("for strict in (True, False):\n    pass\nstrict", None),
        ("strict = 0\nstrict", None),
    ],
)
def test_resolve_bool(source: str, expected: Optional[bool]) -> None:
    facts, expr, scope = _last(source)
    assert facts.resolve_bool(expr, scope) is expected


def test_a_dict_read_after_a_loop_deleting_its_other_entries_is_filtered() -> None:
    deleting = "sd = model.state_dict()\nfor k in list(sd):\n    if 'lora_' not in k:\n        del sd[k]\n"
    assert _final(deleting + "sd") == Value(Kind.MANUAL, MODEL)
    assert _final(deleting.replace("not in", "in") + "sd") == Value(Kind.MODEL_STATE, MODEL)  # the base is left
    before = "sd = model.state_dict()\nkept = sd\nfor k in list(sd):\n    if 'lora_' not in k:\n        sd.pop(k)\n"
    assert _final(before + "kept") == Value(Kind.MODEL_STATE, MODEL)  # bound before the loop ran


# The package's modules in phase order: each may import only modules before it (no cycle, not even a lazy one).
PHASES = [
    "models", "markers", "context", "index", "adapter_files", "values", "key_tests", "filtered", "flows", "view",
    "checkpoints", "name_tests",
]


def test_the_package_imports_one_way() -> None:
    package = Path(state_dict_package.__file__).parent
    assert sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__") == sorted(PHASES)
    for position, name in enumerate(PHASES):
        tree = ast.parse((package / f"{name}.py").read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1}
        assert imported <= set(PHASES[:position]), (name, imported - set(PHASES[:position]))
        absolute = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level != 1]
        absolute += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not any("state_dict" in module for module in absolute), name  # nor around the relative imports
