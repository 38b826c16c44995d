"""The lines of the checked module that messages and fix descriptions name ("on line 9", "(line 12)",
"at 2 places: lines 6 and 9"), renamed for what the user sees: a notebook's cells, a document's lines."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable, Optional

from .rule import Finding

LINES_IN_TEXT = re.compile(r"(\b(?:on|at) |\(|: )(lines? )(\d+(?:(?:, | and )\d+)*)")
_NUMBER = re.compile(r"\d+")
_SEPARATOR = re.compile(r", | and ")


def renamed(text: str, place: Callable[[int], Optional[str]]) -> str:
    """`text` with each module line it names replaced by `place(line)` ("cell 3 line 2", "line 57"); a
    mention with a line `place` does not know is left as it is."""

    def rename(match: re.Match) -> str:
        numbers = match.group(3)
        places = [place(int(n)) for n in _NUMBER.findall(numbers)]
        if any(p is None for p in places):
            return match.group(0)
        separators = [*_SEPARATOR.findall(numbers), ""]
        return match.group(1) + "".join(f"{p}{sep}" for p, sep in zip(places, separators))

    return LINES_IN_TEXT.sub(rename, text)


def with_lines_renamed(finding: Finding, place: Callable[[int], Optional[str]]) -> Finding:
    """The finding with the lines its message and its fix's description name renamed."""
    fix = finding.fix
    if fix is not None and LINES_IN_TEXT.search(fix.description):
        fix = replace(fix, description=renamed(fix.description, place))
    return replace(finding, message=renamed(finding.message, place), fix=fix)
