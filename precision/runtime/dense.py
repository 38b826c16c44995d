"""Does a second LoRA adapter named like its own target module ('dense') survive save and reload?

The shape of unsloth-zoo's test: the default adapter on another module, the adapter 'dense' on the module 'dense'.
"""
import tempfile

import peft
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file
from torch import nn


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(8, 8)
        self.experts = nn.Linear(8, 8)

    def forward(self, x):
        return self.experts(self.dense(x))


def lora_tensors(model):
    return {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}  # noqa: PFT201 (a snapshot)


torch.manual_seed(0)
model = get_peft_model(Toy(), LoraConfig(r=2, target_modules=["experts"]))
model.add_adapter("dense", LoraConfig(r=2, target_modules=["dense"]))  # noqa: PFT104 (the hazard measured)
with torch.no_grad():
    for n, p in model.named_parameters():
        if "lora_" in n:  # both adapters, active or not
            p.normal_()
want = lora_tensors(model)
with tempfile.TemporaryDirectory() as d:
    model.save_pretrained(d)
    print("dense checkpoint keys:", sorted(load_file(f"{d}/dense/adapter_model.safetensors")))
    print("default checkpoint keys:", sorted(load_file(f"{d}/adapter_model.safetensors")))
    torch.manual_seed(1)
    again = PeftModel.from_pretrained(Toy(), d)
    again.load_adapter(f"{d}/dense", adapter_name="dense")  # noqa: PFT104 (the hazard measured)
    got = lora_tensors(again)
    lost = [n for n in want if not torch.equal(want[n], got[n])]
    print(peft.__version__, "lost", len(lost), "of", len(want), lost)
