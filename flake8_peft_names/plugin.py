"""The flake8 front end: reads the `ast` flake8 already parsed; never parses again, never raises. With
`--project-wide` (`project-wide = true`) it reads the modules the file imports from its project as the
command does, from disk, once per flake8 process (project_index.py)."""
from __future__ import annotations

import ast
import sys
from typing import TYPE_CHECKING, Any, Iterator, NoReturn, Optional, Sequence

from . import __version__
from .config import FALSE, TRUE, unknown_code
from .engine import CheckError, check_tree, may_have_findings
from .errors import error_line
from .peft_options import add_flake8_options
from .settings import Settings, SettingsError, build_settings, settings_for

if TYPE_CHECKING:
    from .project_index import ProjectIndex

SELECTION_OPTIONS = ("select", "ignore", "extend-select", "extend-ignore")  # flake8 checks their format, not our codes
USAGE_ERROR = 2  # as the flake8-peft-names command, and flake8's own argument errors
INTERNAL_ERROR = "PFT000 flake8-peft-names could not check this file: {}; please report it"


class Plugin:
    name = "flake8-peft-names"
    version = __version__
    settings: Settings = build_settings()
    index: Optional[ProjectIndex] = None  # with --project-wide: what this process has read of other modules

    def __init__(self, tree: ast.Module, lines: Sequence[str], filename: str = "stdin") -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename  # without `--peft-version`, the range its project declares applies

    @classmethod
    def add_options(cls, parser: Any) -> None:
        add_flake8_options(parser)

    @classmethod
    def parse_options(cls, options: Any) -> None:
        """A bad value ends flake8 with one line naming the option and the value, and exit code 2."""
        for option in SELECTION_OPTIONS:
            for code in getattr(options, option.replace("-", "_"), None) or ():
                error = unknown_code(option, code)
                if error:
                    _usage_error(error)
        try:
            cls.settings = build_settings(options.peft_version, options.peft_methods)
        except SettingsError as error:
            _usage_error(str(error))
        wide = (options.project_wide or "false").strip().lower()
        if wide not in TRUE + FALSE:
            _usage_error(f"project-wide: {wide!r} is not true or false")
        cls.index = None
        if wide in TRUE:  # imported only then: about 20 ms of every flake8 run's start otherwise
            from .project_index import ProjectIndex

            cls.index = ProjectIndex(recheck=False)  # flake8 writes no file

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        try:
            if not may_have_findings("".join(self.lines)):
                return
            project = None
            if self.index is not None:
                from .project_callers import project_lookup

                project = project_lookup(self.index, self.filename)
            findings = check_tree(self.tree, self.lines, settings_for(self.settings, self.filename), project)
        except CheckError as error:  # a bug in a rule, or a file too deeply nested for it
            yield 1, 0, f"PFT000 {error}", type(self)
            return
        except Exception as error:  # a crash here would abort the user's whole flake8 run
            yield 1, 0, INTERNAL_ERROR.format(error_line(error)), type(self)
            return
        for finding in findings:
            yield finding.line, finding.col, finding.text, type(self)


def _usage_error(message: str) -> NoReturn:
    print(f"flake8-peft-names: {message}", file=sys.stderr)
    raise SystemExit(USAGE_ERROR)
