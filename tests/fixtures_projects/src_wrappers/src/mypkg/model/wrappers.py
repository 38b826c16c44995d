# A framework's wrappers: each passes the adapter name its caller gives on to peft.
from peft import PeftModel, get_peft_model


def add_adapter_to_model(model, adapter_name, config, *, gradient_checkpointing=False):
    return get_peft_model(model, config, adapter_name=adapter_name)


def load_named(model, path, name):
    return PeftModel.from_pretrained(model, path, adapter_name=name)


def add_suffixed(model, name, config):
    # Negative: the name is changed before peft sees it, so the caller's name is not the adapter's.
    return get_peft_model(model, config, adapter_name=f"{name}_adapter")


class ModelWrapper:
    def __init__(self, model):
        self.model = model

    def add_adapter_to_model(self, adapter_name, config):
        self.model = get_peft_model(self.model, config, adapter_name=adapter_name)

    def activate(self, name):
        self.model.set_adapter(name)

    def describe(self, name):
        # Negative: the name is only printed, never given to peft.
        print(name, self.model)
