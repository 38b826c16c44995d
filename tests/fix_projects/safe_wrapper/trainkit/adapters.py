"""The project's wrappers: one hands the adapter name on to peft, one only prints the name it is given."""
from peft import get_peft_model


def add_adapter_to_model(model, adapter_name, config):
    return get_peft_model(model, config, adapter_name=adapter_name)


def describe(name, model):
    print(name, type(model).__name__)
