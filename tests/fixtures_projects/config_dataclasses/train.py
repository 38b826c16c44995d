# Positive: adapter names from dataclass configs of another module.
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, HfArgumentParser

from sft.arguments import EvalArguments, ModelArguments

parser = HfArgumentParser((ModelArguments, EvalArguments))
model_args, eval_args = parser.parse_args_into_dataclasses()
base = AutoModelForCausalLM.from_pretrained(model_args.model_name)
config = LoraConfig(target_modules=["q_proj", "v_proj"])
model = get_peft_model(base, config, adapter_name=model_args.adapter_name)  # expect: PFT102@51
model.load_adapter("out/eval", adapter_name=eval_args.eval_adapter)  # expect: PFT105@45
model.set_adapter(ModelArguments.adapter_name)  # expect: PFT102@19
model.save_pretrained("out")
