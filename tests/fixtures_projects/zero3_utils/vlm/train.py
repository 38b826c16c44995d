# The training script: builds the peft model and saves what the helpers of vlm/utils.py return. Its own
# lines have no finding; the helpers' filters are reported in vlm/utils.py, naming the lines here.
import os

import torch
import transformers
from peft import LoraConfig, get_peft_model

from vlm import utils
from vlm.utils import get_peft_state_maybe_zero_3, get_peft_state_non_lora_maybe_zero_3


def train(model, training_args, lora_args):
    lora_config = LoraConfig(r=lora_args.lora_r, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    model = get_peft_model(model, lora_config)
    trainer = transformers.Trainer(model=model, args=training_args)
    trainer.train()
    state_dict = get_peft_state_maybe_zero_3(model.named_parameters(), lora_args.lora_bias)
    non_lora_state_dict = get_peft_state_non_lora_maybe_zero_3(model.named_parameters())
    if training_args.local_rank in (0, -1):
        model.config.save_pretrained(training_args.output_dir)
        model.save_pretrained(training_args.output_dir, state_dict=state_dict)
        torch.save(non_lora_state_dict, os.path.join(training_args.output_dir, "non_lora_trainables.bin"))


def safe_save_model_for_hf_trainer(trainer, output_dir, bias="none"):
    state_dict = utils.get_lora_state_maybe_zero_3(trainer.model.named_parameters(), bias)
    torch.save(state_dict, os.path.join(output_dir, "lora_weights.bin"))
