# fixrun: display-only "comes from another module of the project"
"""The adapter is created under another module's constant and reloaded under the same name written here:
renaming only this file's literal would split one adapter's name in two, so the rename is only shown."""
from peft import LoraConfig, PeftModel, get_peft_model

from harness import base, randomise, report, restored, saved_dir
from trainkit.constants import ADAPTER_NAME

config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"])
model = get_peft_model(base(), config, adapter_name=ADAPTER_NAME)
before = randomise(model)
model.save_pretrained("out")
reloaded = PeftModel.from_pretrained(base(), saved_dir("out"), adapter_name="lora")
report(adapter=restored(before, reloaded))
