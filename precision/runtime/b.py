import tempfile, torch, peft, sys
sys.path.insert(0, __import__("os").path.dirname(__file__))
from names import MoE
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file
m = get_peft_model(MoE(), LoraConfig(r=2, target_modules=["gate_proj"]))
m.add_adapter("b", LoraConfig(r=2, target_modules=["gate_proj"]))
with tempfile.TemporaryDirectory() as d:
    m.save_pretrained(d)
    print(peft.__version__, sorted(load_file(f"{d}/b/adapter_model.safetensors")))
