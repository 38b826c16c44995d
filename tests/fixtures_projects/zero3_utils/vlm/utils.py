# LLaVA-style ZeRO-3 gathering helpers, kept apart from the training script that calls them (vlm/train.py).
# This module does not import peft: the callers in vlm/train.py pass a peft model's named_parameters() and
# save the results, which is what makes the LoRA helpers' filters adapter checkpoints written by hand.
from deepspeed import zero
from deepspeed.runtime.zero.partition_parameters import ZeroParamStatus


def maybe_zero_3(param, ignore_status=False, name=None):
    if hasattr(param, "ds_id"):
        if param.ds_status == ZeroParamStatus.NOT_AVAILABLE and not ignore_status:
            print(name, "no ignore status")
        with zero.GatheredParameters([param]):
            param = param.data.detach().cpu().clone()
    else:
        param = param.detach().cpu().clone()
    return param


# Its result is handed to model.save_pretrained(state_dict=...) in vlm/train.py: a pre-filter without
# modules_to_save. Both branches build the same `to_return`: one finding.
def get_peft_state_maybe_zero_3(named_params, bias):
    if bias == "none":
        to_return = {k: t for k, t in named_params if "lora_" in k}  # expect: PFT201@21
    elif bias == "all":
        to_return = {k: t for k, t in named_params if "lora_" in k or "bias" in k}  # in line 23's finding
    else:
        raise NotImplementedError
    to_return = {k: maybe_zero_3(v, ignore_status=True) for k, v in to_return.items()}
    return to_return


# The complement (everything but the adapter): no adapter checkpoint, whatever its callers do.
def get_peft_state_non_lora_maybe_zero_3(named_params, require_grad_only=True):
    to_return = {k: t for k, t in named_params if "lora_" not in k}
    if require_grad_only:
        to_return = {k: t for k, t in to_return.items() if t.requires_grad}
    to_return = {k: maybe_zero_3(v, ignore_status=True).cpu() for k, v in to_return.items()}
    return to_return


# Qwen-VL variant: the parameter is called `state_dict`; only its caller in vlm/train.py shows that it is a
# model's named_parameters(), and that the result is written with torch.save.
def get_lora_state_maybe_zero_3(state_dict, bias):
    if bias == "none":
        return {k: maybe_zero_3(t) for k, t in state_dict if "lora_" in k}  # expect: PFT201@16
    return {k: maybe_zero_3(t) for k, t in state_dict if "lora_" in k or "bias" in k}  # in line 45's finding
