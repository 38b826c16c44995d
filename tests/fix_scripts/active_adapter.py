# fixrun: fixed
"""The name is compared with active_adapter: renamed there too, so the assertion still holds."""
from peft import PeftModel, get_peft_model

from harness import base, lora_config, randomise, report, restored, saved_dir

model = get_peft_model(base(), lora_config(), adapter_name="lora")
assert model.active_adapter == "lora"
before = randomise(model)
model.save_pretrained("out")
reloaded = PeftModel.from_pretrained(base(), saved_dir("out"), adapter_name="lora")
assert reloaded.active_adapter == "lora", reloaded.active_adapter
report(adapter=restored(before, reloaded))
