# fixrun: fixed
"""The name is given to methods of the project's model wrapper, which hand it to peft: renamed there. `q`
starts the key component `q_proj`, and peft before 0.18 cuts `.q` out of every key on save."""
from peft import LoraConfig

from harness import base, randomise, report, restored, saved_dir
from trainkit.model import ModelWrapper

config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"])
wrapper = ModelWrapper(base())
wrapper.add_adapter_to_model("q", config)
before = randomise(wrapper.model)
wrapper.model.save_pretrained("out")
reloaded = ModelWrapper(base())
reloaded.load_adapter(saved_dir("out"), "q")
report(adapter=restored(before, reloaded.model))
