"""The language server's one door into the rest of the package: reading a buffer, the engine, the
selection and `# noqa`, the fixer, the config and the notebook codec. Every import of a sibling module
of the server is here, so that a rename of the engine's modules is re-pointed in this file alone.

Nothing here imports pygls or lsprotocol: the types are the engine's own.
"""
from __future__ import annotations

import codecs
import io
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from .. import __version__
from ..config import CONFIG_FILES, Config, ConfigError, find_config_file, load_config
from ..docs import rule_page
from ..engine import CheckError
from ..file_job import check_file
from ..flake8_api import NOQA_INLINE as NOQA_INLINE_REGEXP  # flake8's own: where flake8 finds `# noqa`
from ..notebook_codec import NotebookFile, _to_cell
from ..rule import Applicability, Finding
from ..rules import RULES_BY_CODE
from ..source_files import Parser, SourceError, parse, physical_lines


__all__ = [
    "APPLIED",
    "Applicability",
    "CONFIG_FILES",
    "CheckError",
    "Checked",
    "Config",
    "ConfigError",
    "EngineError",
    "Finding",
    "FixFailed",
    "check_cells",
    "check_text",
    "CellsChecked",
    "fixed_cells",
    "config_for",
    "find_config_file",
    "fixed_text",
    "NOQA_INLINE_REGEXP",
    "parse",
    "Parser",
    "physical_lines",
    "SAFE_ONLY",
    "rule_name",
    "rule_pages",
    "VERSION",
]
VERSION = __version__

APPLIED = frozenset({Applicability.SAFE, Applicability.UNSAFE})  # what `check --fix --unsafe-fixes` applies
SAFE_ONLY = frozenset({Applicability.SAFE})  # what `check --fix` applies


class EngineError(Exception):
    """The engine failed on one document (a bug of ours); str() is a one-line reason."""


class FixFailed(Exception):
    """A fix cannot be made on this buffer (the fixer's FixError); str() is a one-line reason."""


@dataclass(frozen=True)
class Checked:
    """One buffer, checked: what the editor shows and what the code actions need."""

    text: str
    lines: list[str]  # physical lines with their endings, split where LSP splits them
    findings: list[Finding] = field(default_factory=list)
    encoding: str = "utf-8"  # the file's encoding (a coding cookie), which the fixer works in
    problem: Optional[str] = None  # why the buffer was not checked (a syntax error), else None


def _encoding_of(text: str) -> str:
    """The encoding a coding cookie in the first two lines names, as Python reads the file."""
    head = "".join(physical_lines(text)[:2]).encode("utf-8", "surrogatepass")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(head).readline)
        return codecs.lookup(encoding).name
    except (SyntaxError, LookupError):
        return "utf-8"


def check_text(
    text: str, path: str, config: Config, spent: Optional[list[object]] = None, parser: Parser = parse
) -> Checked:
    """The findings the CLI reports for a file holding `text` at `path` (the CLI's own per-file check:
    selection, per-file-ignores and `# noqa` applied). A buffer that does not parse gets none and says
    why; an engine bug raises EngineError. With `spent`, the parsed file (its `ast`) is put there instead of
    being freed on return: the caller frees it once its answer is sent. `parser` parses a `.py` file's
    decoded text (as `parse`, which it must equal)."""
    lines = physical_lines(text)
    encoding = _encoding_of(text)
    try:
        found, parsed = check_file(text.encode(encoding, "surrogatepass"), path, config, parser=parser)
        if spent is not None:
            spent.append(parsed)
    except CheckError as error:
        raise EngineError(str(error)) from error
    except (SourceError, UnicodeEncodeError) as error:
        return Checked(text, lines, [], encoding, problem=str(error))
    return Checked(text, lines, found, encoding)


def fixed_text(checked: Checked, findings: Sequence[Finding], applicable: frozenset = APPLIED) -> str:
    """The buffer with the fixes of `findings` applied exactly as `check --fix` applies them to the file
    (the same fixer, on the file's bytes in its own encoding). Raises FixFailed."""
    from ..fixer import FixError, fix_source  # LibCST: only when a fix is asked for

    try:
        raw = checked.text.encode(checked.encoding)
    except UnicodeEncodeError as error:
        raise FixFailed(f"the buffer cannot be written in its encoding ({checked.encoding}): {error.reason}") from None
    try:
        new = fix_source(raw, list(findings), applicable)
    except FixError as error:
        raise FixFailed(str(error)) from None
    return new.decode(checked.encoding)


def config_for(config_file: Optional[Path]) -> Config:
    """The options the CLI runs with, without command-line options, from `config_file` (a file with a
    `[flake8]` section) or none. Raises ConfigError."""
    if config_file is None:
        return load_config({}, None, isolated=True)
    return load_config({}, str(config_file))


def rule_name(code: str) -> Optional[str]:
    rule = RULES_BY_CODE.get(code)
    return rule.name if rule else None


def rule_pages() -> dict[str, str]:
    """Each rule's page, rendered as docs/rules/CODE.md is (docs.py)."""
    return {code: rule_page(rule) for code, rule in RULES_BY_CODE.items()}


# ---------------------------------------------------------------------------------------------
# Notebook documents: the cells checked as one module, as the CLI checks a .ipynb file


@dataclass(frozen=True)
class CellsChecked:
    """A notebook's cells, checked together. `placed[i]` is the (0-based cell index, finding in the cell's
    lines) of `findings[i]`, which are at module positions (what the fixer needs); None: not in a cell."""

    texts: list[str]  # every cell's text, markdown included
    findings: list[Finding] = field(default_factory=list)
    placed: list[Optional[tuple[int, Finding]]] = field(default_factory=list)
    module: str = ""
    notebook: object = None  # the codec's NotebookFile: fixes are written back into cells with it
    problem: Optional[str] = None


def _as_ipynb(cells: Sequence[tuple[bool, str]]) -> bytes:
    import json

    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": text}
                if code
                else {"cell_type": "markdown", "metadata": {}, "source": text}
                for code, text in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 4,
        }
    ).encode("utf-8")


def check_cells(cells: Sequence[tuple[bool, str]], path: str, config: Config) -> CellsChecked:
    """`cells`: (is a Python code cell, text) in notebook order. Raises EngineError on a bug of the engine."""
    texts = [text for _, text in cells]
    try:
        found, checked = check_file(_as_ipynb(cells), path, config)
    except CheckError as error:
        raise EngineError(str(error)) from error
    except SourceError as error:
        return CellsChecked(texts, problem=str(error))
    if not isinstance(checked, NotebookFile) or checked.source is None:
        return CellsChecked(texts, problem=checked.errors if checked else None)
    placed: list[Optional[tuple[int, Finding]]] = []
    for finding in found:
        cell = _to_cell(checked.notebook, finding)
        placed.append(None if cell is None else (cell.cell - 1, cell))
    return CellsChecked(texts, found, placed, checked.source.text, checked, checked.errors)


def fixed_cells(checked: CellsChecked, findings: Sequence[Finding], applicable: frozenset = APPLIED) -> list[str]:
    """Every cell's text after the fixes, as `check --fix` writes them into the .ipynb file. Raises FixFailed."""
    import json

    from ..fixer import FixError, fix_source

    notebook = checked.notebook
    assert isinstance(notebook, NotebookFile)
    try:
        new_module = fix_source(checked.module.encode("utf-8"), list(findings), applicable)
        if new_module == checked.module.encode("utf-8"):
            return list(checked.texts)
        written = json.loads(notebook.encode(new_module))
    except (FixError, SourceError) as error:
        raise FixFailed(str(error)) from None
    return [cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"]) for cell in written["cells"]]
