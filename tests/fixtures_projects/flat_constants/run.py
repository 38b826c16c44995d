# A script at the root: the package re-exports the constant from its __init__.py.
from peft import PeftModel

from trainer import ADAPTER_NAME

model = PeftModel.from_pretrained(None, "out", adapter_name=ADAPTER_NAME)  # expect: PFT102@61
model.save_pretrained("out2")
