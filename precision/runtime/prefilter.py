"""LLaVA's ZeRO-3 helper as a save_pretrained(state_dict=...) pre-filter: does the adapter round-trip?

The shape of llava-torch's train.py: LoRA on the linear layers, bias "none" or "all", a projector trained
outside peft (saved apart, as non_lora_trainables.bin), and `{k: t for k, t in named_params if "lora_" in k}`
(or `... or "bias" in k`) handed to `model.save_pretrained(out, state_dict=...)`. Then the same with
modules_to_save=["head"], the case PFT201's message warns about.
"""
import tempfile

import peft
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from torch import nn


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.q_proj = nn.Linear(8, 8)
        self.v_proj = nn.Linear(8, 8)
        self.mm_projector = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.mm_projector(self.v_proj(self.q_proj(x))))


def prefilter(named_params, bias):  # LLaVA's get_peft_state_maybe_zero_3, without ZeRO
    if bias == "none":
        return {k: t.detach().clone() for k, t in named_params if "lora_" in k}  # noqa: PFT201 (the shape measured)
    return {k: t.detach().clone() for k, t in named_params if "lora_" in k or "bias" in k}  # noqa: PFT201


def trained(model):  # what training changed: every parameter that requires grad
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


for bias, mts in (("none", None), ("all", None), ("none", ["head"])):
    torch.manual_seed(0)
    cfg = LoraConfig(r=2, target_modules=["q_proj", "v_proj"], bias=bias, modules_to_save=mts)
    model = get_peft_model(Toy(), cfg)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.requires_grad:
                p.normal_()
    want = trained(model)
    with tempfile.TemporaryDirectory() as d:
        try:
            model.save_pretrained(d, state_dict=prefilter(model.named_parameters(), bias))
        except Exception as e:  # noqa: BLE001 (what peft raises is the measurement)
            print(peft.__version__, f"bias={bias} modules_to_save={mts}: save raises {type(e).__name__}: {e}")
            continue
        torch.manual_seed(1)
        again = PeftModel.from_pretrained(Toy(), d)
        got = dict(again.named_parameters())
        lost = [n for n in want if n not in got or not torch.equal(want[n], got[n])]
        print(peft.__version__, f"bias={bias} modules_to_save={mts}: lost {len(lost)} of {len(want)}", lost)
