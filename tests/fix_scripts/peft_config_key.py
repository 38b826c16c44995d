# fixrun: fixed
"""The name is a key of peft_config and of a layer's lora_B: renamed there too."""
from peft import PeftModel, get_peft_model

from harness import base, lora_config, randomise, report, restored, saved_dir

model = get_peft_model(base(), lora_config(), adapter_name="lora")
print("rank", model.peft_config["lora"].r)
before = randomise(model)
model.save_pretrained("out")
reloaded = PeftModel.from_pretrained(base(), saved_dir("out"), adapter_name="lora")
layer = reloaded.base_model.model.q_proj
print("lora_B norm", float(layer.lora_B["lora"].weight.norm()))
assert "lora" in layer.lora_A
report(adapter=restored(before, reloaded))
