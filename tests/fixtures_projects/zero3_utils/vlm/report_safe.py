# Negative: the callers of vlm/snapshots_safe.py's helpers only log what they return.
import logging

from peft import get_peft_model

from vlm.snapshots_safe import lora_params_maybe_zero_3, lora_snapshot_maybe_zero_3

logger = logging.getLogger(__name__)


def report(model, config):
    model = get_peft_model(model, config)
    snapshot = lora_snapshot_maybe_zero_3(model.named_parameters())
    logger.info("%d LoRA tensors", len(snapshot))
    print(len(lora_params_maybe_zero_3(model.named_parameters())))
