# fixrun: fixed
"""The name lives in a constant used only as an adapter name: renamed, and the adapter round-trips."""
from peft import PeftModel, get_peft_model

from harness import base, lora_config, randomise, report, restored, saved_dir

ADAPTER = "lora"
model = get_peft_model(base(), lora_config(), adapter_name=ADAPTER)
before = randomise(model)
model.save_pretrained("out")
reloaded = PeftModel.from_pretrained(base(), saved_dir("out"), adapter_name=ADAPTER)
report(adapter=restored(before, reloaded))
