"""State-dict fixes name the adapter the model has in this file."""
import torch
from peft import get_peft_model, get_peft_model_state_dict

SFT = "sft"
model = get_peft_model(base_model, config, adapter_name=SFT)
state = {k: v for k, v in model.state_dict().items() if "lora_" in k}
torch.save(state, "adapter.pt")

second = get_peft_model(other_model, config, adapter_name="dpo")
second.load_state_dict(get_peft_model_state_dict(model, adapter_name=SFT), strict=False)
