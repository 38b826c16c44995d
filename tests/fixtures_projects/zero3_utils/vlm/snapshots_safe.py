# Negative: the same kind of ZeRO-3 helpers, whose callers (vlm/report_safe.py) only count or log what they
# return: never saved, so no adapter checkpoint. This module does not import peft.
from deepspeed import zero


def gathered(param):
    with zero.GatheredParameters([param]):
        return param.data.detach().cpu().clone()


def lora_snapshot_maybe_zero_3(named_params):
    to_return = {k: t for k, t in named_params if "lora_" in k}
    return {k: gathered(v) for k, v in to_return.items()}


def lora_params_maybe_zero_3(state_dict):
    return {k: gathered(t) for k, t in state_dict if "lora_" in k}
