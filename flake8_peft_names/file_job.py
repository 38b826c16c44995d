"""One file, start to end: read -> pre-filter -> parse -> check -> select -> fix -> re-check -> deliver.

A `.py` file is checked as it is; a notebook through notebook_codec, as the Python module of its code
cells; a Markdown or reStructuredText document through doc_file, as the module of its Python blocks.
Either way the Python text is what is checked and fixed, and the file kind maps findings back to the
file's own positions and fixed text back to the file's bytes."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Protocol, Sequence

from .config import Config
from .doc_file import DocFile, is_doc
from .engine import ProjectLookup, cycle_collector_paused, may_have_findings
from .errors import error_line
from .fix_output import STDIN, deliver
from .notebook_codec import NotebookFile
from .project_callers import project_lookup
from .project_index import ProjectIndex
from .results import FileResult, applicability
from .rule import Applicability, Finding
from .selection import reported
from .source_files import Parser, SourceError, SourceFile, parse, read_source

NOTEBOOK = ".ipynb"


def is_notebook(path: str) -> bool:
    """Jupyter notebooks are read as notebooks (code cells), by name, stdin by its display name."""
    return path.endswith(NOTEBOOK)


class CheckedFile(Protocol):
    """A file as Python to check (`source`, None when it cannot have findings), and the way back."""

    source: Optional[SourceFile]
    errors: Optional[str]  # parts of the file left out of the check, one line

    def to_file(self, found: list[Finding]) -> list[Finding]:
        """Findings of `source` at the file's own positions."""

    def position_lines(self) -> tuple[Sequence[str], dict[int, Sequence[str]]]:
        """The text the file's positions refer to: its lines, or the lines of each notebook cell."""

    def encode(self, fixed: bytes) -> bytes:
        """The file's bytes once `source` is fixed to `fixed`."""


class PythonFile:
    """A `.py` file: the Python checked is the file itself."""

    errors: Optional[str] = None

    def __init__(self, raw: bytes, shown: str, parser: Parser = parse) -> None:
        self.source: Optional[SourceFile] = read_source(raw, shown, parser)

    def to_file(self, found: list[Finding]) -> list[Finding]:
        return found

    def position_lines(self) -> tuple[Sequence[str], dict[int, Sequence[str]]]:
        return (self.source.lines if self.source else ()), {}

    def encode(self, fixed: bytes) -> bytes:
        return fixed


def check_file(
    raw: bytes, shown: str, config: Config, project: Optional[ProjectLookup] = None, parser: Parser = parse
) -> tuple[list[Finding], Optional[CheckedFile]]:
    """pre-filter -> parse -> check -> select: the findings at the positions of the checked Python, and
    the file as checked (None when its text cannot have findings); with `project`, through what the file
    imports from its project too. `parser` parses a `.py` file's text (the language server's reparse).
    Raises SourceError."""
    if not may_have_findings(raw.decode("latin-1")):
        return [], None
    checked: CheckedFile
    with cycle_collector_paused():  # the parse too
        if is_notebook(shown) or is_doc(shown):
            checked = NotebookFile(raw, shown) if is_notebook(shown) else DocFile(raw, shown)
        else:
            checked = PythonFile(raw, shown, parser)
        return (reported(checked.source, shown, config, project) if checked.source else []), checked


class FileJob:
    """What checking one file needs; picklable, sent once to each worker process. Each process keeps its
    own summaries of the project modules the files it checks import (project_index.py)."""

    def __init__(
        self, config: Config, mode: str, applicable: frozenset[Applicability], display_name: Optional[str]
    ) -> None:
        self.config, self.mode, self.applicable, self.display_name = config, mode, applicable, display_name
        self.index = ProjectIndex(recheck=mode == "fix")

    def __call__(self, path: str) -> FileResult:
        shown = (self.display_name or "stdin") if path == STDIN else path
        try:
            return self._one_file(path, shown)
        except Exception as error:  # a bug of ours: this file is reported and the run goes on
            return FileResult(shown, error=f"internal error: {error_line(error)}; please report it")

    def _one_file(self, path: str, shown: str) -> FileResult:
        try:
            raw = sys.stdin.buffer.read() if path == STDIN else Path(path).read_bytes()
        except OSError as error:
            return FileResult(shown, error=f"cannot read: {error.strerror or error}")
        project = project_lookup(self.index, shown if path == STDIN else path) if self.config.project_wide else None
        try:
            found, checked = check_file(raw, shown, self.config, project)
        except SourceError as error:
            return FileResult(shown, error=str(error))
        if checked is None:
            return FileResult(shown)
        result = FileResult(shown, checked.to_file(found))
        if self.config.cell_syntax_errors == "warning":
            result.warning = checked.errors
        else:
            result.error = checked.errors
        _keep_position_lines(result, checked)
        if self.mode != "check":
            self._fix(path, raw, checked, found, result, project)
        return result

    def _fix(
        self,
        path: str,
        raw: bytes,
        checked: CheckedFile,
        found: list[Finding],
        result: FileResult,
        project: Optional[ProjectLookup],
    ) -> None:
        fixable = [f for f in found if applicability(f) in self.applicable]
        if not fixable or checked.source is None:
            return
        from .fixer import FixError, fix_source  # LibCST is imported only when there is something to fix

        try:
            fixed = fix_source(checked.source.raw, fixable, self.applicable)
            if fixed == checked.source.raw:
                return
            new = checked.encode(fixed)
            found_after, rechecked = check_file(new, result.path, self.config, project)
        except (FixError, SourceError) as error:
            result.error = "; ".join(filter(None, [result.error, f"cannot fix: {error}"]))
            return
        remaining = rechecked.to_file(found_after) if rechecked else []
        if new != raw and deliver(result, path, self.mode, raw, new, remaining):
            _keep_position_lines(result, rechecked)


def _keep_position_lines(result: FileResult, checked: Optional[CheckedFile]) -> None:
    """The text the findings' positions refer to, kept only while there are findings (json, sarif edits)."""
    result.lines, result.cell_lines = checked.position_lines() if result.findings and checked else ((), {})
