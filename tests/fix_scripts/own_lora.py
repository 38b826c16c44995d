# fixrun: not-reported "the module does not use peft (no peft import or PEFT API): nothing to report or fix"
"""A project's own LoRA, no peft: a state-dict fix would add a peft import and call that cannot work."""
import torch

from harness import base, inject_own_lora, randomise, report, restored

model = inject_own_lora(base())
before = randomise(model)
lora_state = {k: v for k, v in model.state_dict().items() if "lora_" in k}
torch.save(lora_state, "own.pt")

second = inject_own_lora(base())
second.load_state_dict(torch.load("own.pt"), strict=False)
report(adapter=restored(before, second))
