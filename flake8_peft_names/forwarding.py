"""What one module may know of the others in its project: the types the project analysis (project_index.py)
hands to the per-module analysis (module_facts.py, adapter_sites.py). Data only; the flake8 plugin, which
checks one file at a time, never has any of it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol

from .peft_facts import Api


@dataclass(frozen=True)
class Forwarder:
    """A function or method that passes one of its parameters on as an adapter name, to `api` in the end.

    `position` counts the parameter as callers pass it (`self` not counted for a method); `depth` is how
    many functions the name goes through, this one included; `modules` are the other modules of the project
    it goes through, as they are shown (`mypkg/model/wrappers.py`), nearest first."""

    name: str
    owner: Optional[str]  # the class of a method; None for a function
    position: Optional[int]
    param: str
    api: Api
    many: bool
    depth: int = 1
    modules: tuple[str, ...] = ()

    @property
    def method(self) -> bool:
        return self.owner is not None


@dataclass(frozen=True)
class ImportedValue:
    """A string constant of another module: its value and where it comes from, for messages."""

    value: str
    note: str


class ProjectView(Protocol):
    """What one module's imports name in its project, read lazily. `path` is a name this module imports
    followed by attributes (`("constants", "ADAPTER_NAME")`); anything not known statically is None or ()."""

    checked: bool  # the module is the one checked (its names are reported), not one read for what it forwards

    def value(self, path: tuple[str, ...]) -> Optional[ImportedValue]:
        """The string constant the path names."""

    def attribute(self, name: str) -> Optional[ImportedValue]:
        """The value an attribute so named has on any object (`args.adapter_name`): the one every class
        attribute, `self.` assignment and argparse option of that name agrees on in the project modules this
        module imports."""

    def may_hold_string(self, name: str) -> bool:
        """Whether some module this one imports may set an attribute so named to a string (a cheap search
        before `attribute`)."""

    def may_forward(self, path: tuple[str, ...]) -> bool:
        """Whether the path may name a function that forwards (a cheap search before `functions`)."""

    def may_forward_method(self, name: str) -> bool:
        """Whether a method so named may forward (a cheap search before `methods`); never a dunder
        (`super().__init__(...)` may be any class's)."""

    def functions(self, path: tuple[str, ...]) -> tuple[Forwarder, ...]:
        """How the function the path names forwards its parameters (as seen from this module)."""

    def methods(self, name: str) -> tuple[Forwarder, ...]:
        """How the methods so named, defined in the project modules this module imports, forward their
        parameters; () when any of them does not, or they disagree."""
