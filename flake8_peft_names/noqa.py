"""`# noqa` exactly as flake8 applies it, so the CLI and the fixer agree with the plugin."""
from __future__ import annotations

import ast
import bisect
import re
import tokenize
from typing import Iterable, Sequence

from .flake8_api import NOQA_FILE, NOQA_INLINE
from .source_files import physical_lines


def file_is_skipped(lines: Sequence[str]) -> bool:
    """A line that starts with `# flake8: noqa` skips the whole file."""
    return any(NOQA_FILE.match(line) for line in lines)


# A backslash at a line's end joins it to the next: then a logical line may run across statements.
_CONTINUED = re.compile(r"\\(?:\r\n|\r|\n)")


def may_be_silenced(found_lines: Iterable[int], lines: Sequence[str], tree: ast.Module) -> bool:
    """Whether a `# noqa` may be on the logical line of one of `found_lines`, else none silences their findings
    and the tokenizer pass of `noqa_lines` is not needed. A logical line lies within the module's top-level
    statements that share lines with each other (unless a backslash continues a line: then it may be anywhere),
    so only the `# noqa` comments inside those statements count."""
    marked = [number for number, line in enumerate(lines, start=1) if NOQA_INLINE.search(line)]
    if not marked:
        return False
    if any(_CONTINUED.search(line) for line in lines):
        return True
    starts: list[int] = []  # the top-level statements' first and last lines, those that share a line merged
    ends: list[int] = []
    for statement in tree.body:
        decorators = getattr(statement, "decorator_list", ())
        start = min([statement.lineno, *(d.lineno for d in decorators)])
        end = statement.end_lineno or statement.lineno
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    for line in found_lines:
        at = bisect.bisect_right(starts, line) - 1
        if at < 0 or line > ends[at]:
            return True  # outside every statement (never seen): the tokenizer decides
        if bisect.bisect_left(marked, starts[at]) < bisect.bisect_right(marked, ends[at]):
            return True
    return False


def noqa_lines(text: str) -> dict[int, str]:
    """Line number -> the text searched for `# noqa`: every physical line of its logical line."""
    lines = physical_lines(text)  # tokenize's line numbers: form feeds and U+2028 end no line
    # tokenize reads lines that end in "\n": a file with "\r" line endings would be one line to it
    readline = iter([line.rstrip("\r\n") + "\n" if line.endswith(("\r", "\n")) else line for line in lines])
    mapping: dict[int, str] = {}
    first, last = len(lines) + 2, -1
    try:
        for kind, _, (start, _), (end, _), _ in tokenize.generate_tokens(lambda: next(readline, "")):
            if kind in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first, last = min(first, start), max(last, end)
            if kind in (tokenize.NL, tokenize.NEWLINE):
                joined = "".join(lines[first - 1 : last])
                mapping.update(dict.fromkeys(range(first, last + 1), joined))
                first, last = len(lines) + 2, -1
    except (tokenize.TokenError, SyntaxError):  # what tokenize cannot read: each line stands for itself
        for number, line in enumerate(lines, start=1):
            mapping.setdefault(number, line)
    return mapping


def is_silenced(code: str, line: str | None) -> bool:
    match = NOQA_INLINE.search(line or "")
    if match is None:
        return False
    listed = match.group("codes")
    if listed is None:
        return True
    codes = {c for c in listed.replace(",", " ").split() if c}
    return code in codes or code.startswith(tuple(codes))
