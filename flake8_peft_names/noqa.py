"""`# noqa` exactly as flake8 applies it, so the CLI and the fixer agree with the plugin."""
from __future__ import annotations

import tokenize
from typing import Sequence

from .flake8_api import NOQA_FILE, NOQA_INLINE
from .source_files import physical_lines


def file_is_skipped(lines: Sequence[str]) -> bool:
    """A line that starts with `# flake8: noqa` skips the whole file."""
    return any(NOQA_FILE.match(line) for line in lines)


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
