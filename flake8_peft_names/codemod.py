"""The fixes as a LibCST codemod command, for `python -m libcst.tool codemod`.

    python -m libcst.tool codemod -x flake8_peft_names.codemod.FixPeftNames [--unsafe-fixes] PATH ...

or, with `flake8_peft_names` in the `modules` list of `.libcst.codemod.yaml`,
`python -m libcst.tool codemod codemod.FixPeftNames PATH ...`. The command runs the same checker as
the `flake8-peft-names` command on each module, reading the other modules of its project as the command
does (project_index.py), and makes its edits through `fixer.apply_fixes`, as the command does.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import List, Optional

import libcst as cst
from libcst.codemod import CodemodCommand, CodemodContext, SkipFile

from .config import ConfigError, load_config
from .file_job import check_file
from .fixer import NOT_REPRODUCED, FixError, apply_fixes, check_parses
from .peft_options import add_argparse_options
from .project_callers import project_lookup
from .project_index import ProjectIndex
from .rule import Applicability, Finding
from .source_files import SourceError


class FixPeftNames(CodemodCommand):
    DESCRIPTION = (
        "Fix flake8-peft-names findings: safe fixes, and with --unsafe-fixes also unsafe ones "
        "(adapter renames, state-dict rewrites). Display-only suggestions are never applied."
    )

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--unsafe-fixes",
            dest="unsafe_fixes",
            action="store_true",
            default=False,
            help="Also apply unsafe fixes (they change behaviour: checkpoints may use the old adapter name).",
        )
        add_argparse_options(arg_parser)

    def __init__(
        self,
        context: CodemodContext,
        unsafe_fixes: bool = False,
        peft_version: Optional[str] = None,
        peft_methods: Optional[str] = None,
        project_wide: Optional[bool] = None,
    ) -> None:
        super().__init__(context)
        # The [flake8] config, selection and `# noqa` apply here as in flake8 and the CLI.
        try:
            wide = "true" if project_wide else None
            options = {"peft-version": peft_version, "peft-methods": peft_methods, "project-wide": wide}
            self.config = load_config(options)
        except ConfigError as error:
            raise SystemExit(f"flake8-peft-names: {error}") from None
        tiers = {Applicability.SAFE, Applicability.UNSAFE} if unsafe_fixes else {Applicability.SAFE}
        self.applicable = frozenset(tiers)
        self.index = ProjectIndex()  # what the modules of each file's project say, as `check` reads it

    def findings(self, code: str, encoding: str = "utf-8") -> List[Finding]:
        """What `flake8-peft-names check` would report on `code` with the config of the working directory: what
        flake8 reports, and what the file's project tells (project_index.py)."""
        path = self.context.filename or "<module>"
        try:
            project = project_lookup(self.index, path) if self.config.project_wide else None
            found, _ = check_file(code.encode(encoding), path, self.config, project)
        except SourceError as error:
            raise SkipFile(f"Python cannot parse this file: {error}") from None
        return found

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        # libcst.tool writes the file back whenever the tree's bytes differ from it, even with nothing fixed
        path = self.context.filename
        if path and os.path.isfile(path) and Path(path).read_bytes() != tree.bytes:
            raise SkipFile(NOT_REPRODUCED)
        try:
            fixed = apply_fixes(tree, self.findings(tree.code, tree.encoding), self.applicable)
            if fixed is not tree:
                check_parses(fixed.code)
        except FixError as error:
            raise SkipFile(str(error)) from None
        return fixed
