"""Mixing LoRA styles in a diffusers pipeline."""
import torch
from diffusers import DiffusionPipeline

STYLES = {"pixel": "nerijs/pixel-art-xl", "toy": "CiroN2022/toy-face"}

pipe = DiffusionPipeline.from_pretrained("stabilityai/stable-diffusion-xl-base-1.0", torch_dtype=torch.float16)
for name, repo in STYLES.items():
    pipe.load_lora_weights(repo, adapter_name=name)
pipe.load_lora_weights("latent-consistency/lcm-lora-sdxl", adapter_name="lora")
pipe.load_lora_weights("ostris/ikea-instructions-lora-sdxl", adapter_name="to")
pipe.set_adapters(["pixel", "lora"], adapter_weights=[1.0, 0.8])
pipe.fuse_lora(adapter_names=["pixel", "to"])
