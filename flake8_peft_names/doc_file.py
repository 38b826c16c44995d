"""A Markdown or reStructuredText document as the file job checks and fixes it: the module of its Python
code blocks (doc_blocks), findings at the document's own lines and columns, and fixed code written back
into the blocks with every other byte of the document as it was.

The blocks are one module, in order, each after a marker comment line, as a tutorial's reader runs them:
a name defined in one block resolves in a later one. A block Python cannot parse (a placeholder, `...`
in an argument list, a shell command marked as Python) is left out quietly, as doc tools do.
"""
from __future__ import annotations

import ast
import dataclasses
import re
from typing import Iterator, Optional, Sequence

from .doc_blocks import Block, markdown_blocks, rst_blocks, strip_ending
from .line_mentions import with_lines_renamed
from .engine import may_have_findings
from .ipython_syntax import mask, unmask
from .rule import Finding
from .source_files import ParseError, SourceError, SourceFile, parse, physical_lines

MARKDOWN = (".md", ".markdown")
RST = (".rst",)
DOCS = MARKDOWN + RST
BLOCK_MARK = "# <flake8-peft-names block {}>"
BLOCK_MARK_RE = re.compile(r"^# <flake8-peft-names block (\d+)>$")
TOP_LEVEL_AWAIT = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT  # async tutorials await at the top, as notebooks do


def is_doc(path: str) -> bool:
    return path.lower().endswith(DOCS)


class DocError(SourceError):
    """The document cannot be decoded, or a fix cannot be written back into its blocks."""


@dataclasses.dataclass
class CheckedBlock:
    block: Block
    lines: list[str]  # the code as Python sees it (IPython's constructs masked)
    hidden: list[list[str]]


class DocFile:
    """A document's Python blocks as one module (`source`), and the way back to the document."""

    errors: Optional[str] = None  # a block that is no Python is skipped quietly

    def __init__(self, raw: bytes, shown: str) -> None:
        try:
            self.text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            reason = f"{error.reason} at byte {error.start} (documents are read as UTF-8)"
            raise DocError(f"cannot decode: {reason}") from None
        self.lines = physical_lines(self.text)
        found = rst_blocks(self.lines) if shown.lower().endswith(RST) else markdown_blocks(self.lines)
        self.blocks = list(_python_blocks(found, shown))
        self.origin: list[Optional[tuple[int, int]]] = []  # module line - 1 -> (block index, code line index)
        module: list[str] = []
        for number, checked in enumerate(self.blocks):
            module.append(BLOCK_MARK.format(number) + "\n")
            self.origin.append(None)
            module.extend(checked.lines)
            self.origin.extend((number, i) for i in range(len(checked.lines)))
        self.source = _module_source("".join(module), shown)

    # -- findings -------------------------------------------------------------------------------

    def to_file(self, found: list[Finding]) -> list[Finding]:
        return [mapped for mapped in map(self._to_document, found) if mapped is not None]

    def _place(self, line: int) -> Optional[tuple[int, int]]:
        return self.origin[line - 1] if 0 < line <= len(self.origin) else None

    def _position(self, line: int, col: int) -> Optional[tuple[int, int]]:
        """The 1-based document line and 0-based column of a module position."""
        place = self._place(line)
        if place is None:
            return None
        block = self.blocks[place[0]].block
        return block.places[place[1]] + 1, len(block.prefixes[place[1]]) + col

    def _to_document(self, finding: Finding) -> Optional[Finding]:
        start = self._position(finding.line, finding.col)
        if start is None:
            return None
        first, last = self._place(finding.line), self._place(finding.end_line)
        same_block = first is not None and last is not None and first[0] == last[0]
        end = self._position(finding.end_line, finding.end_col) if same_block else None

        def document_line(line: int) -> Optional[str]:  # "defined here, used ... on line 9"
            where = self._position(line, 0)
            return None if where is None else f"line {where[0]}"

        named = with_lines_renamed(finding, document_line)
        end_line, end_col = end or start
        return dataclasses.replace(named, line=start[0], col=start[1], end_line=end_line, end_col=end_col)

    def position_lines(self) -> tuple[Sequence[str], dict[int, Sequence[str]]]:
        return self.lines, {}

    # -- fixes ----------------------------------------------------------------------------------

    def encode(self, fixed: bytes) -> bytes:
        pieces = _split_module(fixed.decode("utf-8"), len(self.blocks))
        replaced: dict[int, list[str]] = {}  # first document line of a block -> its new lines
        spans: dict[int, int] = {}  # ... and the index after its last line
        for checked, lines in zip(self.blocks, pieces):
            if lines == checked.lines:
                continue
            code = unmask(lines, checked.hidden) if checked.block.ipython else lines
            if code is None:
                raise DocError("cannot map the fixed code back to its block")
            block = checked.block
            first, last = block.places[0], block.places[-1]
            if len(code) == len(block.code):
                for place, prefix, new in zip(block.places, block.prefixes, code):
                    replaced[place] = [self._line(place, prefix, new)]
                    spans[place] = place + 1
            elif not block.session and last - first + 1 == len(block.code):
                indent = min((p for p, c in zip(block.prefixes, block.code) if c.strip()), key=len, default="")
                replaced[first] = [self._line(first, indent if new.strip() else "", new) for new in code]
                spans[first] = last + 1
            else:
                raise DocError("cannot fix: the fix adds lines to an interactive session")
        out: list[str] = []
        index = 0
        while index < len(self.lines):
            if index in replaced:
                out.extend(replaced[index])
                index = spans[index]
            else:
                out.append(self.lines[index])
                index += 1
        return "".join(out).encode("utf-8")

    def _line(self, place: int, prefix: str, code: str) -> str:
        original = self.lines[min(place, len(self.lines) - 1)]
        ending = original[len(strip_ending(original)) :] or "\n"
        return prefix + strip_ending(code) + ending


def _python_blocks(blocks: Iterator[Block], shown: str) -> Iterator[CheckedBlock]:
    """The blocks that are Python (IPython for an `ipython` block): the others are no code to check."""
    for block in blocks:
        lines, hidden = block.code, []
        if block.ipython and not _parses(lines, shown):
            masked = mask(lines)
            if masked is None:
                continue
            lines, hidden = masked.lines, masked.hidden
        if _parses(lines, shown):
            yield CheckedBlock(block, lines, hidden)


def _parses(lines: list[str], shown: str) -> bool:
    try:
        parse("".join(lines), shown, TOP_LEVEL_AWAIT)
    except ParseError:
        return False
    return True


def _module_source(text: str, shown: str) -> Optional[SourceFile]:
    if not text or not may_have_findings(text):
        return None
    try:
        tree = parse(text, shown, TOP_LEVEL_AWAIT)
    except ParseError:  # each block parses alone, so rarely (`from __future__` in a later block): skipped
        return None
    return SourceFile(text.encode("utf-8"), text, physical_lines(text), tree)


def _split_module(module: str, count: int) -> list[list[str]]:
    """The fixed module's lines per block, by the markers; lines a fix put above the first marker
    (imports) belong to the first block."""
    pieces: list[list[str]] = []
    leading: list[str] = []
    parts = module.split("\n")  # the module's lines end only at `\n` (doc_blocks)
    for line in [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else []):
        mark = BLOCK_MARK_RE.match(strip_ending(line))
        if mark and int(mark.group(1)) == len(pieces):
            pieces.append([])
        elif pieces:
            pieces[-1].append(line)
        else:
            leading.append(line)
    if len(pieces) != count:
        raise DocError("cannot map the fixed code back to its blocks")
    if leading and pieces:
        pieces[0][:0] = leading
    return pieces
