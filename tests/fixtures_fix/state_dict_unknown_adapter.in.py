"""A model whose adapter this file does not say gets no state-dict fix: it is only shown."""
import torch
from peft import get_peft_model_state_dict

unknown = build_somehow()
saved = {k: v for k, v in unknown.state_dict().items() if "lora_" in k}
torch.save(saved, "unknown.pt")
