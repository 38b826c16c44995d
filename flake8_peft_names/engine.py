"""The engine: every rule over one parsed module (source -> facts -> rules -> findings), and the text
pre-filter that spares parsing files no rule can find anything in."""
from __future__ import annotations

import ast
import gc
from contextlib import contextmanager
from dataclasses import replace
from typing import Iterator, Optional, Protocol, Sequence

from .errors import error_line
from .forwarding import ProjectView
from .module_facts import ModuleFacts
from .module_scan import collect
from .rule import Finding, RenameAdapter
from .rules import RULES
from .settings import Settings
from .source_files import SourceError

# A file whose text holds none of these words cannot have a finding: every rule needs one of them.
TRIGGERS = ("adapter", "peft", "lora", "state_dict", "named_param")


def may_have_findings(text: str) -> bool:
    lowered = text.lower()  # one pass in C; `in` is far cheaper than a case-insensitive regex
    return any(word in lowered for word in TRIGGERS)


class CheckError(SourceError):
    """A bug in the checker stopped the check of one file; str() is a one-line reason.

    A SourceError, so that every front end that reports an unreadable file and goes on (the file job, the codemod)
    does the same here instead of aborting the whole run; the original exception is its __cause__."""


class ProjectLookup(Protocol):
    """The rest of a checked module's project (project_index.FileLookup), for the front ends that see it."""

    def view(self, facts: ModuleFacts) -> ProjectView:
        """What the module's imports name in the project."""


def check_tree(
    tree: ast.Module, lines: Sequence[str], settings: Settings, project: Optional[ProjectLookup] = None
) -> list[Finding]:
    """Findings in source order, one per code and position, with columns in characters; with `project`,
    also through what the module imports from its project. Raises CheckError, never anything else (but
    KeyboardInterrupt and SystemExit)."""
    try:
        with cycle_collector_paused():
            return _check_tree(tree, lines, settings, project)
    except RecursionError:
        raise CheckError("flake8-peft-names could not check this file: too deeply nested") from None
    except Exception as error:
        reason = f"{error_line(error)}; please report it"
        raise CheckError(f"flake8-peft-names could not check this file: {reason}") from error


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """A parse and a check make tens of thousands of objects (the `ast`, the facts, and the trees of other
    modules the check reads), and each burst would have Python's cycle collector scan every object alive,
    again and again (all the more, the more a run keeps: the project pass's summaries); the check frees what
    it made without it (`ModuleFacts.release`), and the collector runs again after (measured on the corpus
    of benchmarks/project_cost.py: BENCHMARKS.md)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_tree(
    tree: ast.Module, lines: Sequence[str], settings: Settings, project: Optional[ProjectLookup]
) -> list[Finding]:
    facts = collect(tree)
    if project is not None:
        facts.project = project.view(facts)
    found: dict[tuple[str, int, int], Finding] = {}
    try:
        for rule in RULES:
            for finding in rule.check(facts, settings):
                if settings.note:  # the peft range was not configured: say which one the finding assumes
                    finding = replace(finding, message=finding.message + settings.note)
                found.setdefault((finding.code, finding.line, finding.col), finding)
    finally:
        facts.release()
    return [_in_characters(f, lines) for _, f in sorted(found.items(), key=lambda item: item[0][1:] + item[0][:1])]


def _in_characters(finding: Finding, lines: Sequence[str]) -> Finding:
    """`ast` columns count UTF-8 bytes; editors and flake8 users count characters."""
    def convert(line: int, col: int) -> int:
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        return col if text.isascii() else len(text.encode("utf-8")[:col].decode("utf-8", "replace"))

    col, end_col = convert(finding.line, finding.col), convert(finding.end_line, finding.end_col)
    fix = finding.fix
    if fix is not None and isinstance(fix.intent, RenameAdapter) and fix.intent.sites:
        sites = tuple((ln, convert(ln, c), end, convert(end, e)) for ln, c, end, e in fix.intent.sites)
        if sites != fix.intent.sites:
            fix = replace(fix, intent=replace(fix.intent, sites=sites))
    if (col, end_col) == (finding.col, finding.end_col) and fix is finding.fix:
        return finding
    return Finding(finding.code, finding.line, col, finding.end_line, end_col, finding.message, fix)
