"""The flake8 front end: reads the `ast` flake8 already parsed; never parses again, never raises."""
from __future__ import annotations

import ast
from typing import Any, Iterator, Sequence

from . import __version__
from .checker import check_tree, may_have_findings
from .settings import Settings, SettingsError, build_settings

INTERNAL_ERROR = "PFT000 flake8-peft-names could not check this file: {}; please report it"


class Plugin:
    name = "flake8-peft-names"
    version = __version__
    settings: Settings = build_settings()

    def __init__(self, tree: ast.Module, lines: Sequence[str]) -> None:
        self.tree = tree
        self.lines = lines

    @classmethod
    def add_options(cls, parser: Any) -> None:
        parser.add_option(
            "--peft-version",
            parse_from_config=True,
            default=None,
            help="PEP 440 specifier of the peft versions the code must work with, or 'installed' "
            "(default: >=0.13). Hazards outside it are not reported.",
        )
        parser.add_option(
            "--peft-methods",
            parse_from_config=True,
            comma_separated_list=True,
            default=[],
            help="PEFT methods in use (lora,ia3,...), overriding what the code says.",
        )

    @classmethod
    def parse_options(cls, options: Any) -> None:
        try:
            cls.settings = build_settings(options.peft_version, options.peft_methods)
        except SettingsError as error:
            raise SystemExit(f"flake8-peft-names: {error}") from None

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        try:
            if not may_have_findings("".join(self.lines)):
                return
            findings = check_tree(self.tree, self.lines, self.settings)
        except (RecursionError, MemoryError) as error:
            yield 1, 0, INTERNAL_ERROR.format(type(error).__name__), type(self)
            return
        except Exception as error:  # a crash here would abort the user's whole flake8 run
            yield 1, 0, INTERNAL_ERROR.format(f"{type(error).__name__}: {error}"), type(self)
            return
        for finding in findings:
            yield finding.line, finding.col, finding.text, type(self)
