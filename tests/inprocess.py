"""What flake8 and the command report, computed in this process: the tier-0 tests' one door into the engine.

Every tier-0 test that needs findings gets them here, so that a renamed engine module is fixed in this
file alone. `findings()` is what `flake8 --isolated --select=PFT <path>` prints
for a file: the engine's check, then the selection and `# noqa` (and `# flake8: noqa`) exactly as the
command applies them, which is flake8's way (flake8_peft_names/noqa.py, config.py). The pre-push tier
proves that equivalence with one real flake8 run over every fixture and rule example
(tests/test_fixtures.py, tests/test_rule_examples.py).
"""
from __future__ import annotations

import ast
import importlib.util
from typing import Optional, Sequence, Union

from flake8_peft_names.config import load_config
from flake8_peft_names.engine import check_tree
from flake8_peft_names.file_job import check_file
from flake8_peft_names.rule import Finding
from flake8_peft_names.settings import build_settings
from flake8_peft_names.source_files import physical_lines

__all__ = ["engine_findings", "findings", "physical_lines", "reported_findings"]

Position = tuple[int, int, str]  # (line, 1-based column, code), as flake8's `%(row)d:%(col)d:%(code)s`

_DEFAULT_SETTINGS = build_settings()


def reported_findings(
    source: Union[str, bytes], path: str = "example.py", options: Optional[dict[str, str]] = None
) -> list[Finding]:
    """The findings `flake8 --isolated --select=PFT` (and `flake8-peft-names check --isolated`) report
    for `source` saved as `path`. `options`: command-line options by flake8 name, without the dashes
    (`{"peft-version": ">=0.18", "extend-ignore": "PFT102"}`); `select` defaults to PFT."""
    raw = source.encode("utf-8") if isinstance(source, str) else source
    config = load_config({"select": "PFT", **(options or {})}, isolated=True)
    return check_file(raw, path, config)[0]  # the command's own pre-filter, parse, check and selection


def findings(
    source: Union[str, bytes], path: str = "example.py", options: Optional[dict[str, str]] = None
) -> list[Position]:
    """`reported_findings` as flake8 prints them: sorted (line, 1-based column, code)."""
    return sorted((f.line, f.col + 1, f.code) for f in reported_findings(source, path, options))


def engine_findings(source: bytes, settings=None) -> list[Finding]:
    """Every finding of the engine, before selection and `# noqa`, as the CLI gets them for the fixer:
    `ast` on the bytes, lines of the decoded text."""
    lines: Sequence[str] = importlib.util.decode_source(source).splitlines(keepends=True)
    return check_tree(ast.parse(source), lines, settings or _DEFAULT_SETTINGS)
