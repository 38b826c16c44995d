# fixrun: display-only "'lora' on line 12 builds a path (join()), not only an adapter name"
"""The name is also the folder save_pretrained writes the adapter to, joined by hand: not renamed."""
import os

from peft import PeftModel, get_peft_model

from harness import base, lora_config, randomise, report, restored

model = get_peft_model(base(), lora_config(), adapter_name="lora")
before = randomise(model)
model.save_pretrained("out")
reloaded = PeftModel.from_pretrained(base(), os.path.join("out", "lora"), adapter_name="lora")
report(adapter=restored(before, reloaded))
