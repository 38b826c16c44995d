"""The user's options, validated once: the plugin and the CLI both build a Settings."""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, replace

from packaging.version import Version

from .peft_facts import METHODS, METHODS_BY_CONFIG, METHODS_BY_TYPE, Method
from .project_range import assumed_range
from .versions import DEFAULT_SUPPORTED, VersionOptionError, supported_versions


class SettingsError(ValueError):
    """An option has a value the tool cannot use; the text names the option and the value."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option  # `peft-version` or `peft-methods`


@dataclass(frozen=True)
class Settings:
    supported: frozenset[Version]  # the peft versions the user's code must work with
    methods: tuple[Method, ...] | None = None  # `peft-methods`: overrides what the code says
    configured: bool = True  # False: no `peft-version` was given; settings_for() takes the project's range
    note: str = ""  # appended to every finding: the range assumed, and where it comes from


# Set to `off` to skip the project lookup (the default range, no note): reproducible runs, and the tests.
PROJECT_RANGE_ENV = "FLAKE8_PEFT_NAMES_PROJECT_RANGE"


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
    return Settings(supported, methods or None, configured=peft_version is not None and bool(peft_version.strip()))


def settings_for(settings: Settings, path: str) -> Settings:
    """The settings for checking the file at `path`: as configured, or with the peft range its project
    declares (project_range) and a note saying so. Cached per folder: cheap enough for every file."""
    if settings.configured or os.environ.get(PROJECT_RANGE_ENV, "").lower() == "off":
        return settings
    assumed = assumed_range(path)
    return _with_range(settings, assumed.spec, assumed.note)


@functools.lru_cache(maxsize=64)
def _with_range(settings: Settings, spec: str, note: str) -> Settings:
    try:
        supported = supported_versions(spec)
    except VersionOptionError:  # a declared range no known release is in (say <0.13): keep the default
        note = f" (assumed peft{DEFAULT_SUPPORTED}: the declared peft{spec} matches no known release)"
        return replace(settings, note=note)
    return replace(settings, supported=supported, note=note)
