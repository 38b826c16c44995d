"""Turning findings into output: one formatter per `--output-format` (text, json, github, sarif)."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import PurePath
from typing import Callable, Optional, Sequence
from urllib.parse import quote

from . import __version__
from .results import CellFinding, FileResult, applicability, definition_links, fix_holder
from .rule import Applicability, Finding, RenameAdapter, ReplaceExpression
from .rules import RULES, RULES_BY_CODE

FIX_MARK = {
    Applicability.SAFE: " [fix: safe]",
    Applicability.UNSAFE: " [fix: unsafe]",
    Applicability.DISPLAY_ONLY: " [fix: suggestion]",
    Applicability.NONE: " [fix: none]",
}
TOOL = "flake8-peft-names"
SPAN_KEYS = ("line", "column", "end_line", "end_column")  # json, and fix edits everywhere


def cell_message(finding: CellFinding) -> str:
    """A notebook finding's message with its place in front: formats whose positions count lines of the
    file (the notebook's JSON) cannot point into a cell themselves."""
    return f"cell {finding.cell}:{finding.line}:{finding.col + 1}: {finding.message}"


def shown_path(path: str) -> str:
    """The path as annotations and URIs want it: `check .` gives `./x.py`, they want `x.py`."""
    return path[2:] if path.startswith("./") else path


def span(finding: Finding, keys: Sequence[str] = SPAN_KEYS) -> dict[str, int]:
    """The finding's range under each format's own `keys`: 1-based lines and columns, the end exclusive."""
    return dict(zip(keys, (finding.line, finding.col + 1, finding.end_line, finding.end_col + 1)))


def location(path: str, finding: Finding) -> str:
    """`path:line:col` (1-based column) as flake8 prints it; `nb.ipynb:cell 3:line:col` in a notebook."""
    where = f"{path}:cell {finding.cell}" if isinstance(finding, CellFinding) else path
    return f"{where}:{finding.line}:{finding.col + 1}"


# ---------------------------------------------------------------------------------------------
# Concrete fix edits


def fix_edits(finding: Finding, lines: Sequence[str]) -> list[dict]:
    """The text edits the fix makes at the finding: 1-based lines and columns, end exclusive.

    A rename rewrites the reported literal and every other literal it lists (`sites`) in its own quotes
    and prefix, as `--fix` does; a replacement
    puts its expression at the reported span (and `--fix` adds the imports it names). Empty when the
    fix changes nothing at this span (a rename at a name that is no literal)."""
    if finding.fix is None:
        return []
    intent = finding.fix.intent
    if isinstance(intent, ReplaceExpression):
        return [dict(span(finding), content=intent.replacement)]
    if isinstance(intent, RenameAdapter):
        edits = []
        here = (finding.line, finding.col, finding.end_line, finding.end_col)
        # a notebook's findings count lines per cell, the sites in the notebook's module: the reported one only
        sites = () if isinstance(finding, CellFinding) else intent.sites
        for site in sorted({here, *sites}):  # the reported literal and every other use it renames
            at = replace(finding, line=site[0], col=site[1], end_line=site[2], end_col=site[3])
            new = _renamed_literal_text(_span_text(at, lines), intent.old, intent.new)
            if new is not None:
                edits.append(dict(span(at), content=new))
        return edits
    return []


def _span_text(finding: Finding, lines: Sequence[str]) -> str:
    if not 0 < finding.line <= finding.end_line <= len(lines):
        return ""
    if finding.line == finding.end_line:
        return lines[finding.line - 1][finding.col : finding.end_col]
    first = lines[finding.line - 1][finding.col :]
    middle = lines[finding.line : finding.end_line - 1]
    last = lines[finding.end_line - 1][: finding.end_col]
    return "".join([first, *middle, last])


def _renamed_literal_text(text: str, old: str, new: str) -> Optional[str]:
    """`text` (a string literal, maybe implicitly concatenated) rewritten to hold `new`, exactly as the
    fixer writes it; None when it is no such literal."""
    if not text.strip():
        return None
    import libcst as cst  # only when a json or sarif report carries a rename

    from .fixer import renamed_literal

    try:
        node = cst.parse_expression(f"({text})")  # the parentheses let a multi-line concatenation parse
    except Exception:
        return None
    renamed = renamed_literal(node, old, new)
    if renamed is None:
        return None
    return cst.Module([]).code_for_node(renamed.with_changes(lpar=[], rpar=[]))


# ---------------------------------------------------------------------------------------------
# Formats


def fix_mark(findings: Sequence[Finding], index: int, links: dict[int, int]) -> str:
    """`[fix: unsafe]`, `[fix: none]`; at an adapter name's use whose definition holds the fix,
    `[fix: unsafe, at line 3]`."""
    holder = fix_holder(findings, index, links)
    mark = FIX_MARK[applicability(holder) if holder else Applicability.NONE]
    return mark if holder is None or holder is findings[index] else f"{mark[:-1]}, at line {holder.line}]"


def format_text(results: Sequence[FileResult]) -> str:
    lines = []
    for result in results:
        links = definition_links(result.findings)
        for index, f in enumerate(result.findings):
            lines.append(f"{location(result.path, f)}: {f.text}{fix_mark(result.findings, index, links)}")
    return "\n".join(lines) + ("\n" if lines else "")


def finding_record(path: str, finding: Finding, lines: Sequence[str] = ()) -> dict:
    fix = finding.fix
    record = {
        "path": path,
        **span(finding),
        "code": finding.code,
        "name": RULES_BY_CODE[finding.code].name if finding.code in RULES_BY_CODE else None,
        "message": finding.message,
        "fix": None
        if fix is None
        else {
            "applicability": fix.applicability.value,
            "description": fix.description,
            "edits": fix_edits(finding, lines),
            "imports": [f"from peft import {name}" for name in getattr(fix.intent, "imports", ())],
        },
    }
    if isinstance(finding, CellFinding):
        record["cell"] = finding.cell
    return record


def format_json(results: Sequence[FileResult]) -> str:
    records = [finding_record(r.path, f, r.lines_of(f)) for r in results for f in r.findings]
    return json.dumps(records, indent=2) + "\n"


def _escape_data(text: str) -> str:
    """GitHub workflow commands: the message after `::`."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """GitHub workflow commands: a `key=value` property value."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(results: Sequence[FileResult]) -> str:
    """GitHub Actions workflow commands: one `::error` annotation per finding, and per unreadable file.

    A notebook's positions count in cells, not in lines of its JSON, so its annotations name the file
    and say the cell, line and column in the message."""
    out = []
    for result in results:
        path = shown_path(result.path)
        for f in result.findings:
            if isinstance(f, CellFinding):
                props: dict[str, object] = {"file": path, "title": f.code}
                message = cell_message(f)
            else:
                props = {"file": path, **span(f, ("line", "col", "endLine", "endColumn")), "title": f.code}
                message = f.message
            text = ",".join(f"{key}={_escape_property(str(value))}" for key, value in props.items())
            out.append(f"::error {text}::{_escape_data(message)}")
        if result.error:
            text = f"file={_escape_property(path)},title={_escape_property(TOOL)}"
            out.append(f"::error {text}::{_escape_data(result.error)}")
    return "\n".join(out) + ("\n" if out else "")


SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _uri(path: str) -> str:
    """A relative or `file:` URI reference for a path as the user gave it."""
    pure = PurePath(path)
    if pure.is_absolute():
        return pure.as_uri()
    return quote(shown_path(pure.as_posix()))


def _sarif_rule(rule) -> dict:
    from .docs import FIX_LABEL, rule_page

    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.what_it_does},
        "help": {"text": rule.why_bad, "markdown": rule_page(rule)},
        "defaultConfiguration": {"level": "error"},
        "properties": {"peftVersionsAffected": rule.affected, "fix": FIX_LABEL[rule.fix_applicability]},
    }


SARIF_REGION = ("startLine", "startColumn", "endLine", "endColumn")


def _sarif_result(result: FileResult, finding: Finding, rule_index: dict[str, int]) -> dict:
    artifact = {"uri": _uri(result.path)}
    record: dict = {"ruleId": finding.code, "level": "error", "message": {"text": finding.message}}
    if finding.code in rule_index:
        record["ruleIndex"] = rule_index[finding.code]
    if isinstance(finding, CellFinding):
        # SARIF regions count lines of the artifact (the notebook's JSON); a cell position is not one.
        record["message"]["text"] = cell_message(finding)
        record["locations"] = [{"physicalLocation": {"artifactLocation": artifact}}]
        record["properties"] = {"cell": finding.cell, "line": finding.line, "column": finding.col + 1}
        return record
    region = span(finding, SARIF_REGION)
    record["locations"] = [{"physicalLocation": {"artifactLocation": artifact, "region": region}}]
    edits = fix_edits(finding, result.lines_of(finding))
    if finding.fix is not None and edits:
        replacements = [
            {
                "deletedRegion": {key: e[json_key] for key, json_key in zip(SARIF_REGION, SPAN_KEYS)},
                "insertedContent": {"text": e["content"]},
            }
            for e in edits
        ]
        record["fixes"] = [
            {
                "description": {"text": f"{finding.fix.description} ({finding.fix.applicability.value})"},
                "artifactChanges": [{"artifactLocation": artifact, "replacements": replacements}],
            }
        ]
    return record


def format_sarif(results: Sequence[FileResult]) -> str:
    """One SARIF 2.1.0 run: the rules from their definitions, a result per finding, and a tool
    execution notification per file that could not be checked."""
    rule_index = {rule.code: index for index, rule in enumerate(RULES)}
    errors = [r for r in results if r.error]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL,
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_sarif_rule(rule) for rule in RULES],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not errors,
                        "toolExecutionNotifications": [
                            {
                                "level": "error",
                                "message": {"text": r.error},
                                "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(r.path)}}}],
                            }
                            for r in errors
                        ],
                    }
                ],
                "columnKind": "unicodeCodePoints",
                "results": [_sarif_result(r, f, rule_index) for r in results for f in r.findings],
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


FORMATS: dict[str, Callable[[Sequence[FileResult]], str]] = {
    "text": format_text,
    "json": format_json,
    "github": format_github,
    "sarif": format_sarif,
}
