# Positive: names given to the project's wrappers, which hand them to peft.
from peft import LoraConfig
from transformers import AutoModelForCausalLM

from mypkg.model import ModelWrapper
from mypkg.model.loaders import load_for_eval
from mypkg.model.wrappers import add_adapter_to_model

base = AutoModelForCausalLM.from_pretrained("gpt2")
config = LoraConfig(target_modules=["q_proj", "v_proj"])
model = add_adapter_to_model(base, "lora", config)  # expect: PFT102@36
wrapper = ModelWrapper(base)
wrapper.add_adapter_to_model("q", config)  # expect: PFT105@30
wrapper.activate("weight")  # expect: PFT104@18
evaluated = load_for_eval(base, "out/sft", adapter="lo")  # expect: PFT102@52
evaluated.save_pretrained("out")
