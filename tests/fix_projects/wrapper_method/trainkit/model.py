"""The project's model wrapper: its methods hand the adapter name their caller gives on to peft."""
from peft import PeftModel, get_peft_model


class ModelWrapper:
    def __init__(self, model):
        self.model = model

    def add_adapter_to_model(self, adapter_name, config):
        self.model = get_peft_model(self.model, config, adapter_name=adapter_name)

    def load_adapter(self, path, adapter_name):
        self.model = PeftModel.from_pretrained(self.model, path, adapter_name=adapter_name)
