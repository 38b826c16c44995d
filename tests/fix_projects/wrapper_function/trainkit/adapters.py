"""The project's wrappers: each hands the adapter name its caller gives on to peft."""
from peft import PeftModel, get_peft_model


def add_adapter_to_model(model, adapter_name, config):
    return get_peft_model(model, config, adapter_name=adapter_name)


def load_adapter(model, path, adapter_name):
    return PeftModel.from_pretrained(model, path, adapter_name=adapter_name)
