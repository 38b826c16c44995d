# Exports a trained adapter with tools/merger.py's hand-written exporter; the findings are in tools/merger.py.
from peft import PeftModel
from transformers import AutoModelForCausalLM

from tools.merger import export_lora

base = AutoModelForCausalLM.from_pretrained("base")
model = PeftModel.from_pretrained(base, "checkpoints/step-1000")
export_lora(model.state_dict(), "export", rank=8, alpha=16)
