# Negative: the callers of tools/moments_safe.py: an optimizer's state_dict(), and a model's state_dict()
# in one call but a loaded checkpoint in another (the callers disagree: unknown).
import torch
from peft import PeftModel

from tools.moments_safe import export_lora_moments, export_lora_weights

model = PeftModel.from_pretrained(base, "checkpoints/step-1000", is_trainable=True)
optimizer = torch.optim.AdamW(model.parameters())
export_lora_moments(optimizer.state_dict(), "moments.pt")
export_lora_weights(model.state_dict(), "export")
export_lora_weights(torch.load("checkpoints/full.pt"), "export-full")
