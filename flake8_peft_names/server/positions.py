"""Columns and text edits between the engine (0-based columns in characters, 1-based lines) and LSP
(0-based lines, columns in the code units of the negotiated position encoding, UTF-16 by default)."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Sequence

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def units(text: str, encoding: str) -> int:
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _content(line: str) -> str:
    return line.rstrip("\r\n")


@dataclass(frozen=True)
class Point:
    """An LSP position: 0-based line, column in code units."""

    line: int
    character: int


def point(lines: Sequence[str], line: int, col: int, encoding: str) -> Point:
    """The LSP position of the engine's (1-based line, 0-based character column)."""
    index = line - 1
    if index >= len(lines):
        return end_point(lines, encoding)
    text = _content(lines[index])
    return Point(index, units(text[: max(col, 0)], encoding))


def end_point(lines: Sequence[str], encoding: str) -> Point:
    """Where the text ends: after the last line break, or at the end of an unterminated last line."""
    if not lines:
        return Point(0, 0)
    last = lines[-1]
    if last.endswith(("\r", "\n")):
        return Point(len(lines), 0)
    return Point(len(lines) - 1, units(last, encoding))


def character_column(line_text: str, character: int, encoding: str) -> int:
    """The character column of an LSP column on one line."""
    text = _content(line_text)
    if encoding == UTF32 or text.isascii():
        return min(character, len(text))
    count = 0
    for index, char in enumerate(text):
        if count >= character:
            return index
        count += units(char, encoding)
    return len(text)


@dataclass(frozen=True)
class Edit:
    """Replace the text from `start` to `end` of the old text with `new_text`."""

    start: Point
    end: Point
    new_text: str


def _line_start(lines: Sequence[str], index: int, encoding: str) -> Point:
    return Point(index, 0) if index < len(lines) else end_point(lines, encoding)


def edits_between(old: str, new: str, encoding: str) -> list[Edit]:
    """Non-overlapping edits of whole lines that turn `old` into `new`: applied together (as LSP applies a
    TextEdit[]) they give exactly `new`. Lines split as LSP splits them (`\\r\\n`, `\\r`, `\\n`)."""
    from .analysis import physical_lines  # the package's split: `\r\n`, `\r` and `\n`, as LSP

    before, after = physical_lines(old), physical_lines(new)
    return [
        Edit(_line_start(before, i1, encoding), _line_start(before, i2, encoding), "".join(after[j1:j2]))
        for i1, i2, j1, j2 in _changed_runs(before, after)
    ]


def _changed_runs(before: Sequence[str], after: Sequence[str]) -> list[tuple[int, int, int, int]]:
    """(i1, i2, j1, j2): `before[i1:i2]` becomes `after[j1:j2]`, for each run of changed lines. Between the
    lines both share at the start and at the end, lines are compared one to one when their number is the
    same (a rename), else by difflib (an import added): difflib takes 80 ms on a 2,000-line file."""
    head = common_prefix(before, after)
    tail = common_prefix(before[head:][::-1], after[head:][::-1])
    old, new = before[head : len(before) - tail], after[head : len(after) - tail]
    if len(old) != len(new):
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        return [
            (head + i1, head + i2, head + j1, head + j2)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
            if tag != "equal"
        ]
    runs: list[tuple[int, int, int, int]] = []
    for index, (was, now) in enumerate(zip(old, new), start=head):
        if was == now:
            continue
        if runs and runs[-1][1] == index:
            runs[-1] = (runs[-1][0], index + 1, runs[-1][2], index + 1)
        else:
            runs.append((index, index + 1, index, index + 1))
    return runs


def common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    """How many lines `a` and `b` share at their start."""
    count = 0
    for x, y in zip(a, b):
        if x != y:
            break
        count += 1
    return count
