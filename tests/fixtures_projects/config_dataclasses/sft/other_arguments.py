# Another config with a field of the same name and another default: which one a script reads is not known.
from dataclasses import dataclass


@dataclass
class ServeArguments:
    eval_adapter: str = "served"


@dataclass
class ExportArguments:
    reference_adapter: str  # no default: whoever builds it sets it
