"""Run every rule over one parsed module: source -> facts -> rules -> findings."""
from __future__ import annotations

import ast
import re
from typing import Sequence

from .module_facts import collect
from .rule import Finding
from .rules import RULES
from .settings import Settings

# A file none of whose text matches cannot have a finding: every rule needs one of these words.
TRIGGER = re.compile(r"adapter|peft|lora|state_dict|named_param", re.IGNORECASE)


def may_have_findings(text: str) -> bool:
    return TRIGGER.search(text) is not None


def check_tree(tree: ast.Module, lines: Sequence[str], settings: Settings) -> list[Finding]:
    """Findings in source order, one per code and position, with columns in characters."""
    facts = collect(tree)
    found: dict[tuple[str, int, int], Finding] = {}
    for rule in RULES:
        for finding in rule.check(facts, settings):
            found.setdefault((finding.code, finding.line, finding.col), finding)
    return [_in_characters(f, lines) for _, f in sorted(found.items(), key=lambda item: item[0][1:] + item[0][:1])]


def _in_characters(finding: Finding, lines: Sequence[str]) -> Finding:
    """`ast` columns count UTF-8 bytes; editors and flake8 users count characters."""
    def convert(line: int, col: int) -> int:
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        return col if text.isascii() else len(text.encode("utf-8")[:col].decode("utf-8", "replace"))

    col, end_col = convert(finding.line, finding.col), convert(finding.end_line, finding.end_col)
    if (col, end_col) == (finding.col, finding.end_col):
        return finding
    return Finding(finding.code, finding.line, col, finding.end_line, end_col, finding.message, finding.fix)
