"""The project's names, defined once and imported where they are used."""
ADAPTER_NAME = "lora"
