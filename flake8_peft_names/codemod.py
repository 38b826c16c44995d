"""The fixes as a LibCST codemod command, for `python -m libcst.tool codemod`.

    python -m libcst.tool codemod -x flake8_peft_names.codemod.FixPeftNames [--unsafe-fixes] PATH ...

or, with `flake8_peft_names` in the `modules` list of `.libcst.codemod.yaml`,
`python -m libcst.tool codemod codemod.FixPeftNames PATH ...`. The command runs the same checker as
the flake8 plugin on each module and makes its edits through `fixer.apply_fixes`, as the
`flake8-peft-names` command does.
"""
from __future__ import annotations

import argparse
import ast
from typing import List, Optional

import libcst as cst
from libcst.codemod import CodemodCommand, CodemodContext, SkipFile

from .checker import check_tree, may_have_findings
from .fixer import FixError, apply_fixes, check_parses
from .rule import Applicability, Finding
from .settings import build_settings


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
        arg_parser.add_argument(
            "--peft-version",
            dest="peft_version",
            default=None,
            help="PEP 440 specifier of the peft versions the code must work with, or 'installed' (default: >=0.13).",
        )
        arg_parser.add_argument(
            "--peft-methods",
            dest="peft_methods",
            default=None,
            help="Comma-separated PEFT methods in use (lora,ia3,...), overriding what the code says.",
        )

    def __init__(
        self,
        context: CodemodContext,
        unsafe_fixes: bool = False,
        peft_version: Optional[str] = None,
        peft_methods: Optional[str] = None,
    ) -> None:
        super().__init__(context)
        methods = peft_methods.split(",") if peft_methods else None
        self.settings = build_settings(peft_version, methods)  # SettingsError names the bad option
        tiers = {Applicability.SAFE, Applicability.UNSAFE} if unsafe_fixes else {Applicability.SAFE}
        self.applicable = frozenset(tiers)

    def findings(self, code: str) -> List[Finding]:
        """What the checker reports on `code`."""
        if not may_have_findings(code):
            return []
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError) as error:
            raise SkipFile(f"Python cannot parse this file: {error}") from None
        return check_tree(tree, code.splitlines(keepends=True), self.settings)

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        try:
            fixed = apply_fixes(tree, self.findings(tree.code), self.applicable)
            if fixed is not tree:
                check_parses(fixed.code)
        except FixError as error:
            raise SkipFile(str(error)) from None
        return fixed
