"""Findings as LSP diagnostics: the offending expression's range, the rule code and its docs page (rule_links.py),
and a link between an adapter name's use and the constant it is defined in."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from lsprotocol import types

from .. import results
from .analysis import Applicability, Finding, rule_name
from .positions import Point, point

SOURCE = "flake8-peft-names"
SEVERITY = types.DiagnosticSeverity.Warning  # every rule: code that runs, but does what the user did not mean
RuleHref = Callable[[str], Optional[str]]  # rule code -> the address of its page, None: no page to link


@dataclass(frozen=True)
class Place:
    """Where a finding is, in the LSP coordinates of one document."""

    uri: str
    start: Point
    end: Point

    @property
    def range(self) -> types.Range:
        return types.Range(
            types.Position(self.start.line, self.start.character), types.Position(self.end.line, self.end.character)
        )


def place_of(uri: str, lines: Sequence[str], finding: Finding, encoding: str) -> Place:
    start = point(lines, finding.line, finding.col, encoding)
    end = point(lines, finding.end_line, finding.end_col, encoding)
    return Place(uri, start, end)


def definition_links(findings: Sequence[Finding]) -> dict[int, int]:
    """Index of a finding at an adapter name's use -> index of the finding at the constant it comes from."""
    return results.definition_links(findings)


def fix_of(findings: Sequence[Finding], index: int, links: dict[int, int]) -> Optional[Finding]:
    """The finding whose fix repairs finding `index`: itself, or the definition its name comes from."""
    return results.fix_holder(findings, index, links)


def _fix_label(finding: Optional[Finding]) -> str:
    if finding is None or finding.fix is None:
        return ""
    kind = finding.fix.applicability
    if kind is Applicability.SAFE:
        return " [fix]"
    if kind is Applicability.UNSAFE:
        return " [fix: unsafe]"
    return f" [suggestion: {finding.fix.description}]"


def to_diagnostics(
    places: Sequence[Place], findings: Sequence[Finding], links: dict[int, int], related: bool, href: RuleHref
) -> list[types.Diagnostic]:
    """One diagnostic per finding; `related`: the client shows related information; `href`: each rule's page."""
    reverse = {definition: use for use, definition in links.items()}
    diagnostics = []
    for index, (finding, where) in enumerate(zip(findings, places)):
        information = None
        if related and index in links:
            there = places[links[index]]
            information = [types.DiagnosticRelatedInformation(types.Location(there.uri, there.range), "defined here")]
        elif related and index in reverse:
            there = places[reverse[index]]
            message = "used as an adapter name here"
            information = [types.DiagnosticRelatedInformation(types.Location(there.uri, there.range), message)]
        name = rule_name(finding.code)
        page = href(finding.code)
        diagnostics.append(
            types.Diagnostic(
                range=where.range,
                message=f"{finding.message}{_fix_label(fix_of(findings, index, links))}",
                severity=SEVERITY,
                code=finding.code,
                code_description=types.CodeDescription(href=page) if page else None,
                source=SOURCE,
                related_information=information,
                data={"rule": name} if name else None,
            )
        )
    return diagnostics
