# The project's names, defined once and imported where they are used.
import os

ADAPTER_NAME = "lora"
SAFE_NAME = "sft"
EVAL_NAME = os.environ.get("EVAL_ADAPTER", "q")
PREFIX = "lo"
JOINED = PREFIX + "ra"

# Negative: bound twice, or changed by a function: which value a user gets is not known statically.
REBOUND = "weight"
REBOUND = "head"
CHANGED = "mlp"


def configure(name):
    global CHANGED
    CHANGED = name
