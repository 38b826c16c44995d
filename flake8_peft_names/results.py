"""What checking (and maybe fixing) files gives: the CLI's results, which the output formats print."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

from .rule import Applicability, Finding


@dataclass(frozen=True)
class CellFinding(Finding):
    """A finding in a notebook: `line` and `end_line` count from the start of cell `cell`, the 1-based
    position of the cell in the notebook (markdown cells count too)."""

    cell: int = 0


@dataclass
class FileResult:
    """What checking (and maybe fixing) one file gave. Findings are those that remain."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    error: Optional[str] = None  # the file could not be read, parsed, fixed or written
    warning: Optional[str] = None  # parts left out that do not fail the run (`cell-syntax-errors = warning`)
    diff: bytes = b""  # `--diff`: a unified diff in the file's own encoding
    fixed: int = 0
    fixed_source: Optional[bytes] = None  # `--fix` of stdin: the new text goes to stdout
    # The text the findings' positions refer to (set only when there are findings): the fix edits of
    # the json and sarif formats read the literal to rewrite from it. Notebooks: per cell.
    lines: Sequence[str] = ()
    cell_lines: dict[int, Sequence[str]] = field(default_factory=dict)

    def lines_of(self, finding: Finding) -> Sequence[str]:
        if isinstance(finding, CellFinding):
            return self.cell_lines.get(finding.cell, ())
        return self.lines


def applicability(finding: Finding) -> Applicability:
    return finding.fix.applicability if finding.fix else Applicability.NONE


# The finding at an adapter name's definition says where the name is used (rules/adapter_names.py).
DEFINED_HERE = re.compile(r"defined here, used as an adapter name on lines? ([\d, and]+)")


def definition_links(findings: Sequence[Finding]) -> dict[int, int]:
    """Index of a finding at an adapter name's use -> index of the finding at the constant it comes from
    (whose fix, if any, repairs both)."""
    links: dict[int, int] = {}
    for index, finding in enumerate(findings):
        match = DEFINED_HERE.search(finding.message)
        if not match:
            continue
        used_on = {int(n) for n in re.findall(r"\d+", match.group(1))}
        for other, candidate in enumerate(findings):
            if candidate.code == finding.code and candidate.line in used_on and other != index:
                links.setdefault(other, index)
    return links


def fix_holder(findings: Sequence[Finding], index: int, links: dict[int, int]) -> Optional[Finding]:
    """The finding whose fix repairs finding `index`: itself, or the definition its name comes from."""
    finding = findings[index]
    if finding.fix is not None:
        return finding
    linked = links.get(index)
    return findings[linked] if linked is not None and findings[linked].fix is not None else None
