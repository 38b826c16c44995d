"""The findings a user sees for one file: the checker's, filtered by the config's selection and
`# noqa` exactly as flake8 filters the plugin's. The CLI, the fixer's front ends and the codemod use it."""
from __future__ import annotations

from .checker import check_tree
from .config import Config, selected
from .noqa import file_is_skipped, is_silenced, noqa_lines
from .rule import Finding
from .sources import Source


def reported(source: Source, shown: str, config: Config) -> list[Finding]:
    """Selected findings that no `# noqa` silences; `shown` is the path config patterns match."""
    if file_is_skipped(source.lines):
        return []
    engine = config.engine(shown)
    found = [f for f in check_tree(source.tree, source.lines, config.settings) if selected(engine, f.code)]
    if found:
        lines = noqa_lines(source.text)
        found = [f for f in found if not is_silenced(f.code, lines.get(f.line))]
    return found
