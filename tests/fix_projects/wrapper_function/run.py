# fixrun: fixed
"""The name is written at calls of the project's wrapper functions, which hand it to peft (the loader through
a wrapper of another module): renamed at both calls. `lora` is inside LoRA's prefix `lora_`: peft before
0.18 drops the adapter's weights on save (peft#2252)."""
from peft import LoraConfig

from harness import base, randomise, report, restored, saved_dir
from trainkit.adapters import add_adapter_to_model
from trainkit.loaders import load_for_eval

config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"])
model = add_adapter_to_model(base(), "lora", config)
before = randomise(model)
model.save_pretrained("out")
reloaded = load_for_eval(base(), saved_dir("out"), "lora")
report(adapter=restored(before, reloaded))
