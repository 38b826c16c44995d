# Negative: the same kind of filter over a state dict given as a parameter, but its callers
# (scripts/resume_safe.py) pass an optimizer's state, or disagree: what it filters is not known to be a
# model's parameters, so nothing is reported.
import torch
from safetensors.torch import save_file


def export_lora_moments(state_dict, path):
    moments = {k: v for k, v in state_dict.items() if "lora_" in k}
    torch.save(moments, path)


def export_lora_weights(state_dict, out_dir):
    weights = {k: v for k, v in state_dict.items() if "lora_" in k}
    save_file(weights, f"{out_dir}/adapter_model.safetensors")
