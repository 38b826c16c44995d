"""State-dict fixes name the adapter the model has in this file."""
import torch
from peft import get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict

SFT = "sft"
model = get_peft_model(base_model, config, adapter_name=SFT)
state = get_peft_model_state_dict(model, adapter_name=SFT)
torch.save(state, "adapter.pt")

second = get_peft_model(other_model, config, adapter_name="dpo")
set_peft_model_state_dict(second, get_peft_model_state_dict(model, adapter_name=SFT), adapter_name="dpo")
