# Negative: a field this script sets itself, a field two imported configs disagree on, and one (`lo` in
# sft/arguments.py) that another imported config declares without a default.
import os

from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, HfArgumentParser

from sft.arguments import EvalArguments, ModelArguments
from sft.other_arguments import ServeArguments

parser = HfArgumentParser((ModelArguments, EvalArguments, ServeArguments))
model_args, eval_args, serve_args = parser.parse_args_into_dataclasses()
model_args.adapter_name = os.environ["ADAPTER"]
base = AutoModelForCausalLM.from_pretrained(model_args.model_name)
config = LoraConfig(target_modules=["q_proj", "v_proj"])
model = get_peft_model(base, config, adapter_name=model_args.adapter_name)
model.load_adapter("out/ref", adapter_name=eval_args.reference_adapter)
model.load_adapter("out/eval", adapter_name=eval_args.eval_adapter)
model.save_pretrained("out")
