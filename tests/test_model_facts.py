"""Facts about each PEFT model (issue 12): which model a name is given to, its config, and its saves."""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from flake8_peft_names.engine import check_tree
from flake8_peft_names.model_facts import model_facts, peft_uses
from flake8_peft_names.module_scan import collect
from flake8_peft_names.settings import build_settings

PER_MODEL = Path(__file__).parent / "fixtures" / "adapter_names" / "per_model.py"


def _facts(source: str):
    return collect(ast.parse(textwrap.dedent(source)))


def _messages(path: Path) -> dict[int, str]:
    text = path.read_text(encoding="utf-8")
    found = check_tree(ast.parse(text), text.splitlines(), build_settings())
    return {f.line: f.message for f in found}


def test_latent_only_where_the_model_is_not_saved() -> None:
    messages = _messages(PER_MODEL)
    assert "latent" not in messages[28]  # sft2 next to sft, saved after
    assert "latent" not in messages[35]  # dpo2: the alias is returned, so it may be saved by the caller
    assert "latent here" in messages[42]  # kto2: never saved
    assert "latent here" in messages[97]  # 'lo' of an inference-only model
    assert "latent" not in messages[80]  # 'q' on a model that is saved


def test_each_function_binds_its_own_model() -> None:
    facts = _facts(
        """
        from peft import LoraConfig, get_peft_model

        def a(base):
            model = get_peft_model(base, LoraConfig(target_modules=["x"]), adapter_name="one")
            model.add_adapter("two", LoraConfig(target_modules=["y"], bias="all"))

        def b(base):
            model = get_peft_model(base, cfg, adapter_name="three")
            model.save_pretrained("out")
        """
    )
    found = model_facts(facts)
    uses = {u.value: u for u in peft_uses(facts)}
    one, two, three = (found.model_of(uses[n]) for n in ("one", "two", "three"))
    assert one is two and one is not None and three is not None and one is not three
    assert not one.saved and three.saved
    config = found.config_of(uses["two"])
    assert config is not None and config.target_modules == frozenset({"y"}) and config.bias == "all"
    assert found.config_of(uses["three"]) is None  # a config the code does not show: the file-wide fallback


def test_calls_expected_to_fail_register_no_name() -> None:
    facts = _facts(
        """
        import pytest
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(base, LoraConfig())
        with pytest.raises(ValueError):
            model.add_adapter("bad", LoraConfig())
        model.add_adapter("good", LoraConfig())
        """
    )
    assert [u.value for u in peft_uses(facts)] == ["default", "good"]


def test_modules_without_an_ml_library_hold_no_peft_model() -> None:
    facts = _facts('registry.load_adapter("a.json", adapter_name="lora")\n')
    assert peft_uses(facts) == []
    assert not model_facts(facts).peft_module


def test_a_model_passed_to_a_helper_of_the_module_is_saved_only_if_the_helper_may_keep_it() -> None:
    facts = _facts(
        """
        import torch
        from peft import LoraConfig, get_peft_model

        def evaluate(model, batches):
            model.eval()
            with torch.no_grad():
                return sum(model(**b).loss.item() for b in batches)

        def export(model, out):
            model.save_pretrained(out)

        def export_later(model, out):
            prepare(out)
            export(model, out)

        def prepare(out):
            print(out)

        def remember(model, cache):
            cache["model"] = model

        def inspect(base, batches):
            model = get_peft_model(base, LoraConfig(), adapter_name="evaluated")
            evaluate(model, batches)

        def train(base, out):
            model = get_peft_model(base, LoraConfig(), adapter_name="exported")
            export_later(model, out)

        def keep(base, cache):
            model = get_peft_model(base, LoraConfig(), adapter_name="stored")
            remember(model, cache)

        def hand_on(base, trainer_cls):
            model = get_peft_model(base, LoraConfig(), adapter_name="handed")
            trainer_cls(model=model).train()
        """
    )
    found = model_facts(facts)
    uses = {u.value: u for u in peft_uses(facts)}
    saved = {name: found.model_of(uses[name]).saved for name in ("evaluated", "exported", "stored", "handed")}
    assert saved == {"evaluated": False, "exported": True, "stored": True, "handed": True}


def test_a_diffusers_pipeline_and_its_components_are_one_model() -> None:
    facts = _facts(
        """
        from diffusers import DiffusionPipeline
        from peft import LoraConfig

        def train(path):
            pipe = DiffusionPipeline.from_pretrained(path)
            pipe.load_lora_weights("style", adapter_name="style")
            pipe.unet.add_adapter(LoraConfig(target_modules=["to_q"]), adapter_name="subject")
            pipe.text_encoder.add_adapter(LoraConfig(target_modules=["q_proj"]), adapter_name="subject")
            pipe.set_adapters(["style", "subject"])
            pipe.unet.save_pretrained("out")
        """
    )
    found = model_facts(facts)
    models = {id(found.model_of(u)) for u in peft_uses(facts)}
    assert len(models) == 1
    (model,) = {id(m): m for m in (found.model_of(u) for u in peft_uses(facts))}.values()
    assert model is not None and model.text == "pipe" and model.saved


def test_a_model_received_as_a_parameter_is_saved_as_its_callers_save_it() -> None:
    facts = _facts(
        """
        from peft import LoraConfig, get_peft_model

        def attach(model, config):
            model.add_adapter("saved_by_caller", config)

        def exported(model):
            model.add_adapter("nobody_calls_me", LoraConfig())

        def train(base, out):
            model = get_peft_model(base, LoraConfig())
            attach(model, LoraConfig())
            model.save_pretrained(out)

        def probe(base):
            model = get_peft_model(base, LoraConfig())
            attach(model, LoraConfig())
        """
    )
    found = model_facts(facts)
    uses = {u.value: u for u in peft_uses(facts)}
    # `attach` is called by `train`, whose model is saved after the call: not latent (though `probe` never saves)
    assert found.model_of(uses["saved_by_caller"]).saved
    # a function the module never calls is called from elsewhere: nothing says its model is never saved
    assert found.model_of(uses["nobody_calls_me"]).saved


def test_a_parameter_model_is_unsaved_only_if_every_caller_never_saves() -> None:
    facts = _facts(
        """
        from peft import LoraConfig, get_peft_model

        def attach(model, config):
            model.add_adapter("inner", config)

        def probe(base):
            model = get_peft_model(base, LoraConfig())
            attach(model, LoraConfig())
            print(model)
        """
    )
    found = model_facts(facts)
    uses = {u.value: u for u in peft_uses(facts)}
    assert not found.model_of(uses["inner"]).saved
