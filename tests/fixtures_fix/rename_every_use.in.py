"""Every use of the value is an adapter-name role, so every literal and constant is renamed together."""
import argparse

from peft import PeftModel, get_peft_model

model = get_peft_model(base_model, config, adapter_name="lora")
assert model.active_adapter == "lora"
assert "lora" in model.peft_config
rank = model.peft_config["lora"].r
for module in model.modules():
    if hasattr(module, "lora_B"):
        print(module.lora_B["lora"].weight.norm())
model.set_adapter(["lora"])
print("trained", "lora")

parser = argparse.ArgumentParser()
parser.add_argument("--adapter", default="lora")
args = parser.parse_args()
reloaded = PeftModel.from_pretrained(base_model, "out", adapter_name=args.adapter)
