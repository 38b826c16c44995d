from .wrappers import ModelWrapper, add_adapter_to_model
