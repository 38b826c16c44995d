"""The user's options, validated once: the plugin and the CLI both build a Settings."""
from __future__ import annotations

from dataclasses import dataclass

from packaging.version import Version

from .peft_facts import METHODS, METHODS_BY_CONFIG, METHODS_BY_TYPE, Method
from .versions import VersionOptionError, supported_versions


class SettingsError(ValueError):
    """An option has a value the tool cannot use; the text names the option and the value."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option  # `peft-version` or `peft-methods`


@dataclass(frozen=True)
class Settings:
    supported: frozenset[Version]  # the peft versions the user's code must work with
    methods: tuple[Method, ...] | None = None  # `peft-methods`: overrides what the code says


def method_named(text: str) -> Method:
    """`lora`, `LORA` or `LoraConfig` -> the LoRA method."""
    key = text.strip()
    method = METHODS_BY_TYPE.get(key.upper().replace("-", "_")) or METHODS_BY_CONFIG.get(key)
    if method is None:
        known = ", ".join(m.peft_type.lower() for m in METHODS)
        raise SettingsError("peft-methods", f"peft-methods: unknown method {key!r} (known: {known})")
    return method


def build_settings(peft_version: str | None = None, peft_methods: list[str] | None = None) -> Settings:
    try:
        supported = supported_versions(peft_version)
    except VersionOptionError as error:
        raise SettingsError("peft-version", str(error)) from None
    methods = tuple(method_named(m) for m in peft_methods if m.strip()) if peft_methods else None
    return Settings(supported, methods or None)
