"""The edit that adds `# noqa: CODE` where flake8 looks for it: a code joins an existing `# noqa:` list of
the logical line, else a comment goes at the end of the finding's line (or of its logical line, when the
finding's line ends inside a string)."""
from __future__ import annotations

import functools
import tokenize
from typing import Optional, Sequence

from .analysis import NOQA_INLINE_REGEXP, physical_lines
from .positions import Edit, Point, units


@functools.lru_cache(maxsize=16)  # a code action request per cursor move: tokenize each buffer once
def _logical_lines(text: str) -> tuple[dict[int, tuple[int, int]], frozenset[int]]:
    """Line -> (first, last) line of its logical line; and the lines a comment may end (1-based)."""
    lines = physical_lines(text)
    readline = iter([line.rstrip("\r\n") + "\n" if line.endswith(("\r", "\n")) else line for line in lines])
    spans: dict[int, tuple[int, int]] = {}
    open_ends: set[int] = set()
    first, last = len(lines) + 2, -1
    try:
        for kind, _, (start, _), (end, _), _ in tokenize.generate_tokens(lambda: next(readline, "")):
            if kind in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            if kind in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
                open_ends.add(start)
            first, last = min(first, start), max(last, end)
            if kind in (tokenize.NL, tokenize.NEWLINE):
                spans.update(dict.fromkeys(range(first, last + 1), (first, last)))
                first, last = len(lines) + 2, -1
    except (tokenize.TokenError, SyntaxError):
        pass
    return spans, frozenset(open_ends)


def noqa_edit(lines: Sequence[str], line: int, code: str, encoding: str) -> Optional[Edit]:
    """The edit that silences `code` on (1-based) `line`; None when a bare `# noqa` already does."""
    spans, open_ends = _logical_lines("".join(lines))
    first, last = spans.get(line, (line, line))
    for number in range(first, last + 1):
        text = lines[number - 1].rstrip("\r\n")
        match = NOQA_INLINE_REGEXP.search(text)
        if match is None:
            continue
        codes = match.group("codes")
        if codes is None:
            return None
        end = match.start("codes") + len(codes.rstrip(", \t"))
        at = Point(number - 1, units(text[:end], encoding))
        return Edit(at, at, f", {code}")
    target = line if line in open_ends or not spans else last
    text = lines[target - 1].rstrip("\r\n") if target <= len(lines) else ""
    at = Point(target - 1, units(text, encoding))
    return Edit(at, at, f"  # noqa: {code}")
