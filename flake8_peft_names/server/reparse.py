"""A changed buffer's `ast` from the previous one: the top-level statements on the lines before the change are
kept, and so are those after it when the change keeps the number of lines; only the text in between is parsed,
alone, after as many empty lines as it is down the file (so its positions are the file's). The result equals
`ast.parse` of the whole buffer (tests/test_server_reparse.py checks it on real files); whenever that is in
doubt the answer is None, and the caller parses the whole buffer.

Why it holds: Python's tokenizer and parser, at the start of a line, depend only on the lines before it. At
the start of a kept top-level statement no bracket, string or backslash continuation is open (the statement
starts there, on its own line), so the text from there on is parsed as it would be alone; what follows the
changed text is kept only when the changed text parses alone and does not end in a backslash continuation."""
from __future__ import annotations

import ast
import warnings
from typing import Optional, Sequence

from .positions import common_prefix

CONTINUED = ("\\\n", "\\\r\n", "\\\r")
# Changes among the first lines may change a coding cookie, which the previous parse decoded with.
COOKIE_LINES = 2


def reparse(old_lines: Sequence[str], old: ast.Module, lines: Sequence[str]) -> Optional[ast.Module]:
    """The `ast` of the text of physical `lines`, the previous text having been `old_lines`, parsed as `old`;
    None when the whole text must be parsed."""
    first = common_prefix(old_lines, lines)  # lines [0, first) are unchanged
    if first < COOKIE_LINES or first == len(lines) == len(old_lines) or lines[0].startswith("\ufeff"):
        return None
    spans = [(_start(s), s.end_lineno or s.lineno) for s in old.body]
    kept = 0  # the statements before the change, each ending on a line before the next one starts
    while kept < len(spans) and spans[kept][1] <= first and not _shares_line(spans, kept + 1):
        kept += 1
    if kept and _indented(lines, spans[kept - 1][1]):  # the change continues the last statement's block
        kept -= 1
    if kept == 0 or lines[spans[kept - 1][1] - 1].endswith(CONTINUED):
        return None
    start = spans[kept - 1][1]  # 0-based index of the first line parsed again
    after, end = len(spans), len(lines)  # the statements kept after the change, and where the parsed text ends
    if len(lines) == len(old_lines):
        last = len(lines) - common_prefix(old_lines[::-1], lines[::-1])  # lines [last, end) are unchanged
        after = next((i for i in range(kept, len(spans)) if spans[i][0] > last and not _shares_line(spans, i)), after)
        if after < len(spans):
            end = spans[after][0] - 1
            if end <= start or lines[end - 1].endswith(CONTINUED):
                return None
    text = "\n" * start + "".join(lines[start:end])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            middle = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # the whole text is parsed, and says why it does not parse
    return ast.Module(body=old.body[:kept] + middle.body + old.body[after:], type_ignores=[])


def _indented(lines: Sequence[str], start: int) -> bool:
    """The first line from `start` with code on it starts with a space or a tab (False: no such line)."""
    for line in lines[start:]:
        code = line.lstrip(" \t\f")
        if code and code[0] not in "#\r\n":
            return code != line
    return False


def _shares_line(spans: Sequence[tuple[int, int]], index: int) -> bool:
    """Statement `index` starts on the line where the one before it ends (`a = 1; b = 2`)."""
    return 0 < index < len(spans) and spans[index][0] <= spans[index - 1][1]


def _start(statement: ast.stmt) -> int:
    decorators = getattr(statement, "decorator_list", None)
    return decorators[0].lineno if decorators else statement.lineno
