"""Find adapter names that PEFT mishandles and hand-written adapter state dicts."""

__version__ = "0.1.0"
