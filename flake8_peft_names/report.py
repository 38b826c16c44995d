"""Turning findings into output: one formatter per `--output-format`."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from .rule import Applicability, Finding
from .rules import RULES_BY_CODE

FIX_MARK = {
    Applicability.SAFE: " [fix: safe]",
    Applicability.UNSAFE: " [fix: unsafe]",
    Applicability.DISPLAY_ONLY: " [fix: suggestion]",
}


@dataclass
class FileResult:
    """What checking (and maybe fixing) one file gave. Findings are those that remain."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    error: Optional[str] = None  # the file could not be read, parsed, fixed or written
    diff: str = ""
    fixed: int = 0
    fixed_source: Optional[bytes] = None  # `--fix` of stdin: the new text goes to stdout


def applicability(finding: Finding) -> Applicability:
    return finding.fix.applicability if finding.fix else Applicability.NONE


def format_text(results: Sequence[FileResult]) -> str:
    lines = []
    for result in results:
        for f in result.findings:
            lines.append(f"{result.path}:{f.line}:{f.col + 1}: {f.text}{FIX_MARK.get(applicability(f), '')}")
    return "\n".join(lines) + ("\n" if lines else "")


def finding_record(path: str, finding: Finding) -> dict:
    fix = finding.fix
    return {
        "path": path,
        "line": finding.line,
        "column": finding.col + 1,
        "end_line": finding.end_line,
        "end_column": finding.end_col + 1,
        "code": finding.code,
        "name": RULES_BY_CODE[finding.code].name if finding.code in RULES_BY_CODE else None,
        "message": finding.message,
        "fix": None
        if fix is None
        else {"applicability": fix.applicability.value, "description": fix.description, "edit": _edit(fix)},
    }


def _edit(fix) -> dict:
    intent = fix.intent
    kind = type(intent).__name__
    return {"kind": kind, **{k: v for k, v in vars(intent).items()}}


def format_json(results: Sequence[FileResult]) -> str:
    records = [finding_record(r.path, f) for r in results for f in r.findings]
    return json.dumps(records, indent=2) + "\n"


FORMATS: dict[str, Callable[[Sequence[FileResult]], str]] = {"text": format_text, "json": format_json}
