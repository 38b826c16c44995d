"""The value also does something else, so nothing is renamed: each finding's fix says which use blocks it."""
import os
import argparse

from peft import LoraConfig, PeftModel, get_peft_model

PEFT_METHOD = "lora"
if PEFT_METHOD == "lora":  # selects the method
    config = LoraConfig(target_modules=["q_proj", "v_proj"])
model = get_peft_model(base_model, config, adapter_name=PEFT_METHOD)
model.save_pretrained("out")
reloaded = PeftModel.from_pretrained(base_model, os.path.join("out", "q"), adapter_name="q")  # builds a path

parser = argparse.ArgumentParser()
parser.add_argument("--name", default="weight", help="adapter name (default: weight)")  # documented default
args = parser.parse_args()
reloaded.load_adapter("out", adapter_name=args.name)
