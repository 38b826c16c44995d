# fixrun: not-reported "a safe name given to the wrapper, and a hazardous one only printed by another function"
"""A safe name through the project's wrapper, and `lora` given to a function that never hands it to peft."""
from peft import LoraConfig, PeftModel

from harness import base, randomise, report, restored, saved_dir
from trainkit.adapters import add_adapter_to_model, describe

config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"])
model = add_adapter_to_model(base(), "sft", config)
describe("lora", model)
before = randomise(model)
model.save_pretrained("out")
reloaded = PeftModel.from_pretrained(base(), saved_dir("out"), adapter_name="sft")
report(adapter=restored(before, reloaded))
