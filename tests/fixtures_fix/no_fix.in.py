# Findings without an applicable fix leave the file as it is.
from peft import LoraConfig, PeftModel

model = PeftModel.from_pretrained(base_model, "out/sft", adapter_name="sft")
model.load_adapter("out/sft2", adapter_name="sft2")  # PFT106: display-only, no fix
model.load_adapter("out/sft", adapter_name="sft")  # PFT107: no fix
model.set_adapter(f"{model.active_adapter}")  # not a literal
