# An offline exporter: keeps the LoRA entries of a state dict it is given, rewrites their keys by hand and
# writes adapter_model.safetensors beside a hand-made adapter_config.json. This module does not import peft;
# its caller, scripts/merge.py, passes a peft model's state_dict(), which makes these hand-written adapter
# files.
import json
import os

from safetensors.torch import save_file


def export_lora(state_dict, out_dir, rank, alpha):
    lora = {k.replace("base_model.model.", ""): v for k, v in state_dict.items() if "lora_" in k}  # expect: PFT201@12
    save_file(lora, os.path.join(out_dir, "adapter_model.safetensors"))  # expect: PFT204@21
    with open(os.path.join(out_dir, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "r": rank, "lora_alpha": alpha}, f)
