# Dataclass configs, filled from the command line (HfArgumentParser) in another module.
from dataclasses import dataclass, field


@dataclass
class ModelArguments:
    adapter_name: str = field(default="lora", metadata={"help": "the adapter's name"})
    model_name: str = "gpt2"


@dataclass
class EvalArguments:
    eval_adapter: str = "q"
    reference_adapter: str = "lo"
