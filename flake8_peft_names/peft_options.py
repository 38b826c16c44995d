"""`--peft-version`, `--peft-methods` and `--project-wide`, defined once for the flake8 plugin, the CLI and
the codemod.

Each front end registers them from here: the plugin through flake8's option manager
(`add_flake8_options`), the `check` command and the LibCST codemod through argparse
(`add_argparse_options`). `config.load_config` splits a comma-separated value from the command line
or the `[flake8]` config with `split`, as flake8 splits it for the plugin.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

from .flake8_api import comma_separated
from .versions import DEFAULT_SUPPORTED


@dataclass(frozen=True)
class PeftOption:
    name: str  # the long option without its leading "--", also the config file key
    help: str
    metavar: str
    comma_separated: bool = False  # `lora,ia3`: a list, split as flake8 splits comma-separated options
    switch: bool = False  # given or not (`project-wide = true` in a config file)
    default: None = None  # not given: Settings' defaults apply (DEFAULT_SUPPORTED, the methods in the code)

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    def split(self, text: Optional[str]) -> Optional[list[str]]:
        """A comma-separated option's raw value (command line or config file) as flake8 gives it to the
        plugin; an empty value is None, as not given."""
        assert self.comma_separated, self.name
        return comma_separated(text) if text else None


PEFT_VERSION = PeftOption(
    "peft-version",
    help="the peft versions the code must work with: a PEP 440 specifier such as '>=0.17,<0.21', or "
    "'installed' for the installed peft (default: the peft requirement of the checked file's project, else the "
    f"installed peft, else {DEFAULT_SUPPORTED}); hazards that only affect other versions are not reported",
    metavar="SPEC",
)
PEFT_METHODS = PeftOption(
    "peft-methods",
    help="comma-separated PEFT methods the code uses (lora,ia3,... or LoraConfig,...), instead of the ones "
    "the code names",
    metavar="LIST",
    comma_separated=True,
)
PROJECT_WIDE = PeftOption(
    "project-wide",
    help="also read the other modules of each file's project (constants, wrappers, state-dict helpers and "
    "their callers); costs more (config: project-wide = true)",
    metavar="",
    switch=True,
)
PEFT_OPTIONS = (PEFT_VERSION, PEFT_METHODS, PROJECT_WIDE)


class FlagOrConfigValue(argparse.Action):
    """A switch for flake8: `--project-wide` on the command line gives "true"; from a config file flake8 hands
    the plugin the raw value (for `store_true` it would call configparser's boolean parser itself, and a bad
    value would end flake8 in a traceback instead of the plugin's one-line error)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(
        self, parser: Any, namespace: argparse.Namespace, values: Any, option_string: Optional[str] = None
    ) -> None:
        setattr(namespace, self.dest, "true")


def add_flake8_options(option_manager: Any) -> None:
    """Register the options with flake8 (the plugin's `add_options`): read from `[flake8]` too."""
    for option in PEFT_OPTIONS:
        kind: dict[str, Any] = {"action": FlagOrConfigValue} if option.switch else {
            "metavar": option.metavar, "comma_separated_list": option.comma_separated
        }
        option_manager.add_option(
            option.flag, dest=option.dest, default=option.default, help=option.help, parse_from_config=True, **kind
        )


def add_argparse_options(parser: Union[argparse.ArgumentParser, argparse._ArgumentGroup]) -> None:
    """Register the options with argparse as raw strings; `config.load_config` reads them."""
    for option in PEFT_OPTIONS:
        kind: dict[str, Any] = {"action": "store_true"} if option.switch else {"metavar": option.metavar}
        parser.add_argument(option.flag, dest=option.dest, default=option.default, help=option.help, **kind)
