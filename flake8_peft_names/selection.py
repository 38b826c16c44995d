"""The findings a user sees for one file: the engine's, filtered by the config's selection and `# noqa`
exactly as flake8 filters the plugin's. file_job.check_file uses it, for the CLI and the codemod."""
from __future__ import annotations

from typing import Optional

from .config import Config, selected
from .engine import ProjectLookup, check_tree
from .flake8_api import NOQA_INLINE
from .noqa import file_is_skipped, is_silenced, may_be_silenced, noqa_lines
from .rule import Finding
from .settings import settings_for
from .source_files import SourceFile


def reported(
    source: SourceFile, shown: str, config: Config, project: Optional[ProjectLookup] = None
) -> list[Finding]:
    """Selected findings that no `# noqa` silences; `shown` is the path config patterns match; `project` the
    rest of the file's project, for the front ends that analyse it."""
    if file_is_skipped(source.lines):
        return []
    engine = config.engine(shown)
    settings = settings_for(config.settings, shown)  # without `peft-version`: the range the project declares
    found = [f for f in check_tree(source.tree, source.lines, settings, project) if selected(engine, f.code)]
    # the tokenizer pass only when a line has a `# noqa` that may be on the logical line of a finding
    found_lines = [f.line for f in found]
    if found and NOQA_INLINE.search(source.text) and may_be_silenced(found_lines, source.lines, source.tree):
        lines = noqa_lines(source.text)
        found = [f for f in found if not is_silenced(f.code, lines.get(f.line))]
    return found
