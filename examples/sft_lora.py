"""Supervised fine-tuning with LoRA, the way peft#2252 was reported: the adapter is called "lora"."""
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM

ADAPTER_NAME = "lora"
OUTPUT_DIR = "out/sft"


def train(base_model_path: str) -> None:
    model = AutoModelForCausalLM.from_pretrained(base_model_path, torch_dtype=torch.bfloat16)
    config = LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    model = get_peft_model(model, config, adapter_name=ADAPTER_NAME)
    # ... training loop ...
    model.save_pretrained(OUTPUT_DIR)


def evaluate(base_model_path: str) -> PeftModel:
    model = AutoModelForCausalLM.from_pretrained(base_model_path)
    return PeftModel.from_pretrained(model, OUTPUT_DIR, adapter_name=ADAPTER_NAME)
