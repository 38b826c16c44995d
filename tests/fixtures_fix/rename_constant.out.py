"""A name that reaches peft through a constant, a default or a config value is renamed where it is written."""
import argparse
from dataclasses import dataclass, field

from peft import LoraConfig, PeftModel, get_peft_model

ADAPTER_NAME = "adapter_lora"  # the constant's definition is renamed; its uses stay as they are
config = LoraConfig(target_modules=["q_proj", "v_proj"])
model = get_peft_model(base_model, config, adapter_name=ADAPTER_NAME)
model.set_adapter(ADAPTER_NAME)


@dataclass
class ScriptArguments:
    ref_adapter: str = field(default="adapter_q")


def load(model, path, adapter_name='adapter_weight'):
    return PeftModel.from_pretrained(model, path, adapter_name)


def train(script_args: ScriptArguments, model):
    model.set_adapter(script_args.ref_adapter)


parser = argparse.ArgumentParser()
parser.add_argument("--lora-name", type=str, default="adapter_weight")
args = parser.parse_args()
model.load_adapter("out", adapter_name=args.lora_name)
