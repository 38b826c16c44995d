# fixrun: display-only "line 14 reads a saved file back with load_state_dict, which expects these keys"
"""A hand-filtered dict saved and resumed in the same file: it works, and fixing one side would load nothing."""
import torch
from peft import get_peft_model

from harness import base, lora_config, randomise, report, restored

model = get_peft_model(base(), lora_config())
before = randomise(model)
state = {k: v for k, v in model.state_dict().items() if "lora_" in k}
torch.save(state, "resume.pt")

resumed = get_peft_model(base(), lora_config())
resumed.load_state_dict(torch.load("resume.pt"), strict=False)
report(adapter=restored(before, resumed))
