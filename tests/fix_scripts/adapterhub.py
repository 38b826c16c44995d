# fixrun: not-reported "AdapterHub's adapters library, not peft: nothing to report or rename"
# fixrun: needs adapters
"""AdapterHub's `adapters`: five uses of the name, three of them in calls no peft fact covers."""
import adapters
from adapters import LoRAConfig
from transformers import AutoModel

model = AutoModel.from_pretrained("prajjwal1/bert-tiny")
adapters.init(model)
model.add_adapter("lora", config=LoRAConfig())
model.train_adapter("lora")
model.set_active_adapters("lora")
model.save_adapter("out", "lora")
model.load_adapter("out", load_as="lora")
