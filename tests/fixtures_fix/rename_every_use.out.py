"""Every use of the value is an adapter-name role, so every literal and constant is renamed together."""
import argparse

from peft import PeftModel, get_peft_model

model = get_peft_model(base_model, config, adapter_name="adapter_lora")
assert model.active_adapter == "adapter_lora"
assert "adapter_lora" in model.peft_config
rank = model.peft_config["adapter_lora"].r
for module in model.modules():
    if hasattr(module, "lora_B"):
        print(module.lora_B["adapter_lora"].weight.norm())
model.set_adapter(["adapter_lora"])
print("trained", "adapter_lora")

parser = argparse.ArgumentParser()
parser.add_argument("--adapter", default="adapter_lora")
args = parser.parse_args()
reloaded = PeftModel.from_pretrained(base_model, "out", adapter_name=args.adapter)
