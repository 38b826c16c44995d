# Negative: a safe constant, constants bound twice or changed elsewhere, and names that do not resolve.
from peft import LoraConfig, get_peft_model

from .constants import CHANGED, REBOUND, SAFE_NAME
from .missing import MISSING_NAME


def train(base):
    config = LoraConfig(target_modules=["q_proj", "v_proj", "gate_proj"], modules_to_save=["head"])
    model = get_peft_model(base, config, adapter_name=SAFE_NAME)
    model.load_adapter("out/a", adapter_name=REBOUND)
    model.load_adapter("out/b", adapter_name=CHANGED)
    model.load_adapter("out/c", adapter_name=MISSING_NAME)
    model.save_pretrained("out")
