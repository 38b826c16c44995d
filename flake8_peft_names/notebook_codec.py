"""Jupyter notebooks as Python: the code cells become one module, as the kernel runs them, so a constant
defined in cell 1 and used in cell 3 is resolved; a map takes the module's lines back to cells, and fixed
module text is written back into the cells with nbformat, leaving outputs and metadata as they were.

The module is the code cells in order, each after a marker comment line. A cell is read as IPython reads
it (ipython_syntax): the lines IPython rewrites (`%magic`, `!shell \\` and its continuation lines,
`name?`, `x = !cmd`, the first line of `%%time`/`%%capture`/...) are masked, so line numbers stay and
nothing is reported there; a cell magic whose body is not Python (`%%bash`, `%%writefile`, ...) leaves
its cell out. A cell that still does not parse is reported once and left out; the others are checked.
LibCST keeps comments, so after a fix the markers find each cell's lines and each masked line again.
nbformat is imported only here, and only when a notebook is read or written, with its warnings silenced;
a cell without an `id` gets none when the notebook is written back.
"""
from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from .engine import may_have_findings
from .errors import error_line
from .line_mentions import with_lines_renamed
from .ipython_syntax import mask, unmask
from .results import CellFinding
from .rule import Finding
from .source_files import ParseError, SourceError, SourceFile, parse

CELL_MARK = "# <flake8-peft-names cell {}>"
CELL_MARK_RE = re.compile(r"^# <flake8-peft-names cell (\d+)>$")
TOP_LEVEL_AWAIT = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT  # the kernel runs it


class NotebookError(SourceError):
    """The file is no notebook nbformat can read, or a fix cannot be mapped back to its cells."""


@dataclass
class CodeCell:
    number: int  # 1-based position in the notebook, markdown cells included
    source: str  # as in the notebook
    lines: list[str]  # the source as Python sees it: IPython's lines masked (ipython_syntax)
    magics: list[list[str]]  # the masked lines, each construct's, in order, with their line endings
    added_newline: bool  # the source does not end in a newline; the module adds one


@dataclass
class Notebook:
    node: Any  # nbformat.NotebookNode
    indent: Optional[int]  # JSON indent of the file, kept when writing
    final_newline: bool
    no_id: frozenset[int] = frozenset()  # positions (0-based) of the cells the file gives no id
    cells: list[CodeCell] = field(default_factory=list)  # the cells in the module
    errors: list[str] = field(default_factory=list)  # cells left out: one line each
    module: str = ""
    origin: list[Optional[tuple[int, int]]] = field(default_factory=list)  # module line - 1 -> (cell, line)

    @property
    def cell_lines(self) -> dict[int, Sequence[str]]:
        return {cell.number: split_lines(cell.source) for cell in self.cells}


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split only at `\\n` as Python's tokenizer does (not at form feeds)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


NBFORMAT_MISSING = "notebooks need nbformat: pip install 'flake8-peft-names[notebooks]'"


def read_notebook(raw: bytes, filename: str) -> Notebook:
    try:
        import nbformat
    except ImportError:
        raise NotebookError(NBFORMAT_MISSING) from None
    try:
        text = raw.decode("utf-8-sig")
        no_id = _cells_without_id(text)
        with warnings.catch_warnings():  # MissingIDFieldWarning and the like: nbformat's business
            warnings.simplefilter("ignore")
            node = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
        cells = node["cells"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, nbformat.ValidationError) as error:
        raise NotebookError(f"cannot read notebook: {error_line(error)[:300]}") from None
    notebook = Notebook(node, _indent(text), text.endswith("\n"), no_id)
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if not isinstance(source, str):
            raise NotebookError(f"cannot read notebook: cell {number} has no text source")
        code = _python_of(number, source)
        if code is None:
            continue
        try:
            parse("".join(code.lines), filename, TOP_LEVEL_AWAIT)
        except ParseError as error:
            notebook.errors.append(f"cell {number}: {error}")
            continue
        notebook.cells.append(code)
    _build_module(notebook)
    return notebook


def _cells_without_id(text: str) -> frozenset[int]:
    """The cells nbformat would give a random id when reading (nbformat 4.5 and later): none is written."""
    try:
        cells = json.loads(text).get("cells")
    except (ValueError, AttributeError):
        return frozenset()  # nbformat says why it is no notebook
    if not isinstance(cells, list):
        return frozenset()
    return frozenset(i for i, cell in enumerate(cells) if isinstance(cell, dict) and "id" not in cell)


def _indent(text: str) -> Optional[int]:
    """The indent of the JSON (Jupyter writes 1), None when it is on one line."""
    match = re.search(r"\n( *)\S", text)
    return len(match.group(1)) if match else None


def _python_of(number: int, source: str) -> Optional[CodeCell]:
    """The cell as Python: itself when it parses, else as IPython reads it; None when a cell magic makes
    the whole cell something else than Python."""
    lines = split_lines(source)
    added = bool(lines) and not lines[-1].endswith("\n")
    if added:
        lines[-1] += "\n"
    cell = CodeCell(number, source, lines, [], added)
    try:
        parse("".join(lines), "<cell>", TOP_LEVEL_AWAIT)
        return cell
    except ParseError:
        pass
    masked = mask(lines)
    if masked is None:
        return None
    cell.lines, cell.magics = masked.lines, masked.hidden
    return cell


def _build_module(notebook: Notebook) -> None:
    lines: list[str] = []
    origin: list[Optional[tuple[int, int]]] = []
    for cell in notebook.cells:
        lines.append(CELL_MARK.format(cell.number) + "\n")
        origin.append(None)
        lines.extend(cell.lines)
        origin.extend((cell.number, i) for i in range(1, len(cell.lines) + 1))
    notebook.module = "".join(lines)
    notebook.origin = origin


def _place(notebook: Notebook, line: int) -> Optional[tuple[int, int]]:
    """(cell, line in the cell) of a line of the module."""
    return notebook.origin[line - 1] if 0 < line <= len(notebook.origin) else None


def _to_cell(notebook: Notebook, finding: Finding) -> Optional[CellFinding]:
    start, end = _place(notebook, finding.line), _place(notebook, finding.end_line)
    if start is None:
        return None
    end_line, end_col = (end[1], finding.end_col) if end and end[0] == start[0] else (start[1], finding.col)

    def cell_line(line: int) -> Optional[str]:
        where = _place(notebook, line)
        return None if where is None else f"cell {where[0]} line {where[1]}"

    named = with_lines_renamed(finding, cell_line)
    return CellFinding(finding.code, start[1], finding.col, end_line, end_col, named.message, named.fix, cell=start[0])


def module_source(notebook: Notebook, filename: str) -> Optional[SourceFile]:
    """The module of the code cells, parsed; None when it cannot have findings."""
    if not notebook.cells or not may_have_findings(notebook.module):
        return None
    text = notebook.module
    try:
        tree = parse(text, filename, TOP_LEVEL_AWAIT)
    except ParseError as error:
        if error.line is None:
            raise
        # each cell parses alone, so rarely (`from __future__` in cell 2)
        cell, line = _place(notebook, error.line) or (0, 0)
        reason = f"syntax error at line {line} when the cells run in order: {error.reason}"
        raise SourceError(f"cell {cell}: {reason}") from None
    return SourceFile(text.encode("utf-8"), text, split_lines(text), tree)


def cell_findings(notebook: Notebook, found: list[Finding]) -> list[Finding]:
    """Findings of the module at their cells' positions; those on a marker line are dropped."""
    mapped = (_to_cell(notebook, f) for f in found)
    return [f for f in mapped if f is not None]


def write_cells(notebook: Notebook, module: str) -> bytes:
    """The notebook with each cell's source taken from the fixed module; everything else unchanged."""
    import nbformat

    by_number = {cell.number: cell for cell in notebook.cells}
    pieces: dict[int, list[str]] = {}
    current: Optional[list[str]] = None
    leading: list[str] = []  # lines a fix put above the first cell's marker (imports) belong to it
    for line in split_lines(module):
        mark = CELL_MARK_RE.match(line.rstrip("\r\n"))
        if mark:
            current = pieces.setdefault(int(mark.group(1)), [])
            continue
        (leading if current is None else current).append(line)
    if list(pieces) != list(by_number):
        raise NotebookError("cannot map the fixed code back to the notebook's cells")
    if leading:
        first = next(iter(pieces))
        pieces[first][:0] = leading
    node = notebook.node
    for number, lines in pieces.items():
        cell = by_number[number]
        source = _restore_magics(cell, lines)
        if source != cell.source:
            node["cells"][number - 1]["source"] = source
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = nbformat.writes(node, version=nbformat.NO_CONVERT)
    if notebook.indent != 1 or notebook.no_id:  # nbformat writes indent 1 and gives every cell an id
        written = json.loads(text)
        for index in notebook.no_id:
            written["cells"][index].pop("id", None)
        separators = (",", ": ") if notebook.indent is not None else (",", ":")
        text = json.dumps(written, indent=notebook.indent, sort_keys=True, ensure_ascii=False, separators=separators)
    if notebook.final_newline and not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")


def _restore_magics(cell: CodeCell, lines: list[str]) -> str:
    restored = unmask(lines, cell.magics)
    if restored is None:
        raise NotebookError(f"cannot map the fixed code back to cell {cell.number}")
    text = "".join(restored)
    if cell.added_newline and text.endswith("\n"):
        text = text[:-1]
    return text


class NotebookFile:
    """A `.ipynb` file as the file job checks and fixes it: the module of its code cells, and the way back
    from the module to the cells' positions and to the notebook's bytes."""

    def __init__(self, raw: bytes, shown: str) -> None:
        self.notebook = read_notebook(raw, shown)
        self.source = module_source(self.notebook, shown)
        self.errors = "; ".join(self.notebook.errors) or None

    def to_file(self, found: list[Finding]) -> list[Finding]:
        return cell_findings(self.notebook, found)

    def position_lines(self) -> tuple[Sequence[str], dict[int, Sequence[str]]]:
        return (), self.notebook.cell_lines

    def encode(self, fixed: bytes) -> bytes:
        return write_cells(self.notebook, fixed.decode("utf-8"))
