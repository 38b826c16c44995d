"""A classifier head trained next to LoRA adapters (modules_to_save), one adapter per task."""
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForSequenceClassification

TASKS = ("sentiment", "topic")


def build(model_name: str):
    base = AutoModelForSequenceClassification.from_pretrained(model_name, num_labels=3)
    config = LoraConfig(target_modules=["query", "value"], modules_to_save=["classifier"])
    model = get_peft_model(base, config, adapter_name="weight")
    model.add_adapter("classifier", config)
    model.add_adapter("train", config)
    return model
