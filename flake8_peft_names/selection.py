"""The findings a user sees for one file: the engine's, filtered by the config's selection and `# noqa`
exactly as flake8 filters the plugin's. The file job (CLI, notebooks) and the codemod use it."""
from __future__ import annotations

from typing import Optional

from .config import Config, selected
from .engine import check_tree, may_have_findings
from .noqa import file_is_skipped, is_silenced, noqa_lines
from .rule import Finding
from .source_files import SourceFile, read_source


def reported(source: SourceFile, shown: str, config: Config) -> list[Finding]:
    """Selected findings that no `# noqa` silences; `shown` is the path config patterns match."""
    if file_is_skipped(source.lines):
        return []
    engine = config.engine(shown)
    found = [f for f in check_tree(source.tree, source.lines, config.settings) if selected(engine, f.code)]
    if found:
        lines = noqa_lines(source.text)
        found = [f for f in found if not is_silenced(f.code, lines.get(f.line))]
    return found


def reported_in(raw: bytes, shown: str, config: Config) -> tuple[list[Finding], Optional[SourceFile]]:
    """pre-filter -> parse -> select for the bytes of a Python file; parses only what may have findings.
    Raises SourceError when the file cannot be decoded, parsed or checked."""
    if not may_have_findings(raw.decode("latin-1")):
        return [], None
    source = read_source(raw, shown)
    return reported(source, shown, config), source
