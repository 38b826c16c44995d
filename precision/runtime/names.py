"""Save and reload an adapter under a given name on small models shaped like the corpus' tests; count lost tensors."""
import tempfile

import peft
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file
from torch import nn


class MLP(nn.Module):  # peft/tests/test_other.py
    def __init__(self):
        super().__init__()
        self.lin0 = nn.Linear(1, 2)
        self.lin1 = nn.Linear(3, 4)


class Expert(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate_proj = nn.Linear(4, 4)
        self.up_proj = nn.Linear(4, 4)
        self.down_proj = nn.Linear(4, 4)


class MoE(nn.Module):  # model.layers.N.mlp.experts.M.{gate,up,down}_proj, as a tiny Mixtral/Qwen3-MoE
    def __init__(self):
        super().__init__()
        layer = nn.Module()
        layer.mlp = nn.Module()
        layer.mlp.experts = nn.ModuleList([Expert(), Expert()])
        self.model = nn.Module()
        self.model.layers = nn.ModuleList([layer])


def run(label, make, cfg, name, others=()):
    torch.manual_seed(0)
    model = get_peft_model(make(), cfg())
    for other in others:
        model.add_adapter(other, cfg())
    model.add_adapter(name, cfg())
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_" in n or "modules_to_save" in n:
                p.normal_()
    want = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad or "modules_to_save" in n}
    with tempfile.TemporaryDirectory() as d:
        model.save_pretrained(d)
        again = PeftModel.from_pretrained(make(), d)
        for adapter in list(others) + [name]:
            again.load_adapter(f"{d}/{adapter}", adapter_name=adapter)
        foreign = {other: sorted(k for k in load_file(f"{d}/{other}/adapter_model.safetensors") if name in k)
                   for other in others}
        got = dict(again.named_parameters())
        lost = [n for n in want if n in got and not torch.equal(want[n], got[n])]
        missing = [n for n in want if n not in got]
    print(f"{peft.__version__} {label}: lost {len(lost)} missing {len(missing)} of {len(want)}; "
          f"the other adapters' files hold these keys of {name!r}: {foreign}")


if __name__ == "__main__":
    run("'other' on MLP, modules_to_save lin1", MLP,
        lambda: LoraConfig(target_modules=["lin0"], modules_to_save=["lin1"]), "other")
    run("'b' on MoE gate/up/down", MoE,
        lambda: LoraConfig(r=2, target_modules=["gate_proj", "up_proj", "down_proj"]), "b")
    run("'yet-another' next to 'other'", MoE,
        lambda: LoraConfig(r=2, target_modules=["gate_proj"]), "yet-another", others=("other",))
