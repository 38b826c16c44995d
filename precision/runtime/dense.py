# Does a second LoRA adapter named like its own target module ('dense') survive save/load?
# Shape of unsloth-zoo's test: default adapter on another module, 'dense' adapter on module 'dense'.
import tempfile, torch, peft
from torch import nn
from peft import LoraConfig, get_peft_model, PeftModel

class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(8, 8)
        self.experts = nn.Linear(8, 8)
    def forward(self, x):
        return self.experts(self.dense(x))

torch.manual_seed(0)
base = Toy()
model = get_peft_model(base, LoraConfig(r=2, target_modules=["experts"]))
model.add_adapter("dense", LoraConfig(r=2, target_modules=["dense"]))
with torch.no_grad():
    for n, p in model.named_parameters():
        if "lora_" in n:
            p.normal_()
want = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}
with tempfile.TemporaryDirectory() as d:
    model.save_pretrained(d)
    from safetensors.torch import load_file
    print("dense checkpoint keys:", sorted(load_file(f"{d}/dense/adapter_model.safetensors")))
    print("default checkpoint keys:", sorted(load_file(f"{d}/adapter_model.safetensors")))
    torch.manual_seed(1)
    again = PeftModel.from_pretrained(Toy(), d)
    again.load_adapter(f"{d}/dense", adapter_name="dense")
    got = {n: p for n, p in again.named_parameters() if "lora_" in n}
    lost = [n for n in want if not torch.equal(want[n], got[n])]
    print(peft.__version__, "lost", len(lost), "of", len(want), lost)
