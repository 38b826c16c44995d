"""Test doubles for the language server's tests: rules changed in place, in the test process (for the CLI)
and in a server process started as `python tests/lsp_server_doubles.py KIND`.

`bug`: the engine raises on a module holding the string "PLANTED_ENGINE_BUG" (a bug on one document).
`safe`: every fix of every rule is offered as SAFE (no rule has a safe fix yet; fix-all needs one)."""
from __future__ import annotations

import ast
import dataclasses
import sys
from typing import Any, Iterator

PLANTED = "PLANTED_ENGINE_BUG"


def _engine_globals() -> dict[str, Any]:
    from flake8_peft_names import engine

    return vars(engine)  # where the engine looks its RULES up


def _with_bug(check: Any) -> Any:
    def checked(facts: Any, settings: Any) -> Iterator[Any]:
        if any(isinstance(n, ast.Constant) and n.value == PLANTED for n in ast.walk(facts.tree)):
            raise RuntimeError("planted bug")
        return check(facts, settings)

    return checked


def _all_safe(check: Any) -> Any:
    from flake8_peft_names.rule import Applicability

    def checked(facts: Any, settings: Any) -> Iterator[Any]:
        for finding in check(facts, settings):
            if finding.fix is not None and finding.fix.applicability is Applicability.UNSAFE:
                fix = dataclasses.replace(finding.fix, applicability=Applicability.SAFE)
                finding = dataclasses.replace(finding, fix=fix)
            yield finding

    return checked


def plant(kind: str) -> tuple[Any, ...]:
    """Change the engine's rules; returns the rules as they were (give them to `restore`)."""
    wrap = {"bug": _with_bug, "safe": _all_safe}[kind]
    engine = _engine_globals()
    original = engine["RULES"]
    engine["RULES"] = tuple(dataclasses.replace(rule, check=wrap(rule.check)) for rule in original)
    return original


def restore(original: tuple[Any, ...]) -> None:
    _engine_globals()["RULES"] = original


if __name__ == "__main__":
    plant(sys.argv[1])
    from flake8_peft_names.server import main

    sys.exit(main())
