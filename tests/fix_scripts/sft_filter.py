# fixrun: fixed
"""The file's only adapter is "sft": the PFT201 fix must save that adapter, not `default`."""
import torch
from peft import get_peft_model, set_peft_model_state_dict

from harness import base, lora_config, randomise, report, restored

model = get_peft_model(base(), lora_config(), adapter_name="sft")
before = randomise(model)
state = {k: v for k, v in model.state_dict().items() if "lora_" in k}
torch.save(state, "adapter.pt")

second = get_peft_model(base(), lora_config(), adapter_name="sft")
set_peft_model_state_dict(second, torch.load("adapter.pt"), adapter_name="sft")
report(adapter=restored(before, second))
