# fixrun: fixed
"""The file's only adapter is "sft": the PFT203 fix must load into that adapter, not `default`."""
from peft import get_peft_model, get_peft_model_state_dict

from harness import base, lora_config, randomise, report, restored

ADAPTER = "sft"
model = get_peft_model(base(), lora_config(), adapter_name=ADAPTER)
before = randomise(model)
state = get_peft_model_state_dict(model, adapter_name=ADAPTER)

second = get_peft_model(base(), lora_config(), adapter_name=ADAPTER)
second.load_state_dict(state, strict=False)
report(adapter=restored(before, second))
