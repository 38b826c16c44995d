"""Up to peft 0.17.x, does an adapter whose name is inside `base_model` take the default adapter into its checkpoint?"""
import os
import sys
import tempfile

import peft
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(__file__))
from names import MoE, run  # noqa: E402

for name in ("b", "base", "model"):
    m = get_peft_model(MoE(), LoraConfig(r=2, target_modules=["gate_proj"]))
    m.add_adapter(name, LoraConfig(r=2, target_modules=["gate_proj"]))
    with tempfile.TemporaryDirectory() as d:
        m.save_pretrained(d)
        keys = sorted(load_file(f"{d}/{name}/adapter_model.safetensors"))
        print(peft.__version__, name, len(keys), "keys,", sum(".default." in k for k in keys), "of default's")
    run(name, MoE, lambda: LoraConfig(r=2, target_modules=["gate_proj"]), name)
