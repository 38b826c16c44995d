# fixrun: fixed
"""The name is written at calls of the project's wrapper functions, which hand it to peft: renamed there."""
from peft import LoraConfig

from harness import base, randomise, report, restored, saved_dir
from trainkit.adapters import add_adapter_to_model, load_adapter

config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"])
model = add_adapter_to_model(base(), "lora", config)
before = randomise(model)
model.save_pretrained("out")
reloaded = load_adapter(base(), saved_dir("out"), "lora")
report(adapter=restored(before, reloaded))
