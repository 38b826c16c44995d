# Negative: safe names, wrappers that change or never pass the name on, and a method name that a class
# this script imports defines without forwarding (its receiver may be of that class).
from peft import LoraConfig
from transformers import AutoModelForCausalLM

from mypkg.model import ModelWrapper
from mypkg.model.wrappers import add_adapter_to_model, add_suffixed
from mypkg.reporting import Report

base = AutoModelForCausalLM.from_pretrained("gpt2")
config = LoraConfig(target_modules=["q_proj", "v_proj"])
model = add_adapter_to_model(base, "sft", config)
other = add_suffixed(base, "lora", config)
wrapper = ModelWrapper(base)
wrapper.describe("lora")
wrapper.activate("weight")
Report().activate("q")
