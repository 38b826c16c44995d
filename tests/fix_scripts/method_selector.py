# fixrun: display-only "'lora' on line 9 is compared with 'lora', not only an adapter name"
"""The adapter's name also selects the PEFT method: renaming it would silently train IA3."""
from peft import PeftModel, get_peft_model

from harness import base, ia3_config, lora_config, randomise, report, restored, saved_dir

PEFT_METHOD = "lora"

if PEFT_METHOD == "lora":
    config = lora_config()
else:
    config = ia3_config()
model = get_peft_model(base(), config, adapter_name=PEFT_METHOD)
before = randomise(model)
assert any("lora_A" in key for key in before), "trained the wrong method"
model.save_pretrained("out")
reloaded = PeftModel.from_pretrained(base(), saved_dir("out"), adapter_name=PEFT_METHOD)
report(adapter=restored(before, reloaded))
