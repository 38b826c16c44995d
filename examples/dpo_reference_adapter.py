"""DPO with a frozen reference adapter next to the trained one, configured from the command line."""
import argparse
from dataclasses import dataclass

from peft import PeftModel
from transformers import AutoModelForCausalLM


@dataclass
class ScriptArguments:
    model_name: str = "base-model"
    adapter_path: str = "out/sft"
    train_adapter: str = "sft"
    ref_adapter: str = "sft_ref"


def load_models(args: ScriptArguments) -> PeftModel:
    base = AutoModelForCausalLM.from_pretrained(args.model_name)
    model = PeftModel.from_pretrained(base, args.adapter_path, adapter_name=args.train_adapter, is_trainable=True)
    model.load_adapter(args.adapter_path, adapter_name=args.ref_adapter)
    model.load_adapter("out/dpo-warmup", adapter_name=args.train_adapter)
    return model


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--merge-adapter", default="lora_A")
    cli = parser.parse_args()
    model = load_models(ScriptArguments())
    model.set_adapter(cli.merge_adapter)
