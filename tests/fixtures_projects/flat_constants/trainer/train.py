# Positive: adapter names that come from the project's constants modules.
from peft import LoraConfig, PeftModel, get_peft_model

from . import constants
from .configs.names import DERIVED
from .constants import ADAPTER_NAME, EVAL_NAME, JOINED


def train(base):
    config = LoraConfig(target_modules=["q_proj", "v_proj"])
    model = get_peft_model(base, config, adapter_name=ADAPTER_NAME)  # expect: PFT102@55
    model.load_adapter("out/eval", adapter_name=EVAL_NAME)  # expect: PFT105@49
    model.load_adapter("out/joined", adapter_name=constants.JOINED)  # expect: PFT102@51
    model.set_adapter(DERIVED)  # expect: PFT102@23
    model.save_pretrained("out")
    return PeftModel.from_pretrained(base, "out", adapter_name=JOINED)  # expect: PFT102@64
