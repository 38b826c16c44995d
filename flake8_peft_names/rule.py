"""What a rule is, what it finds, and how safe its fix is: the types every front end shares."""
from __future__ import annotations

import ast
import enum
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Union

from .peft_facts import Effect, Hazard

if TYPE_CHECKING:
    from packaging.version import Version

    from .module_facts import ModuleFacts
    from .settings import Settings


class Applicability(enum.Enum):
    """How far a fix may be trusted (ruff's tiers)."""

    SAFE = "safe"  # keeps behaviour; `--fix` applies it
    UNSAFE = "unsafe"  # changes behaviour; needs `--unsafe-fixes`
    DISPLAY_ONLY = "display-only"  # shown as a suggestion, never applied
    NONE = "none"  # no fix


@dataclass(frozen=True)
class RenameAdapter:
    """Rename the adapter `old` to `new`: the reported literal and every literal at `sites` (the span
    (line, col, end_line, end_col) of each literal that holds the value in an adapter-name role)."""

    old: str
    new: str
    sites: tuple[tuple[int, int, int, int], ...] = ()


@dataclass(frozen=True)
class ReplaceExpression:
    """Replace the reported expression with `replacement`, importing `imports` from peft."""

    replacement: str
    imports: tuple[str, ...] = ()


FixIntent = Union[RenameAdapter, ReplaceExpression]


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    intent: FixIntent
    description: str


@dataclass(frozen=True)
class Finding:
    """One problem at one place. `col` and `end_col` are 0-based, as `ast` gives them."""

    code: str
    line: int
    col: int
    end_line: int
    end_col: int
    message: str
    fix: Fix | None = None

    @property
    def text(self) -> str:
        return f"{self.code} {self.message}"


def finding_at(rule: "Rule", node: "ast.AST", values: dict[str, str], fix: Fix | None = None) -> Finding:
    """A finding of `rule` spanning `node`, its message filled from `values`."""
    line, col = start(node)
    end_line = getattr(node, "end_lineno", None) or line
    end_col = getattr(node, "end_col_offset", None) or col
    return Finding(rule.code, line, col, end_line, end_col, rule.message.format(**values), fix)


def start(node: ast.AST) -> tuple[int, int]:
    """Where a reported node starts: its 1-based line and 0-based column (`ast.AST` declares neither)."""
    return getattr(node, "lineno"), getattr(node, "col_offset")


Check = Callable[["ModuleFacts", "Settings"], Iterable[Finding]]
EXPECT = re.compile(r"\s*# expect: (.*)$")


@dataclass(frozen=True)
class Rule:
    """One rule, defined once: the plugin, the CLI, the fixer, the docs and the tests read it."""

    code: str
    name: str
    summary: str  # what it catches, one line (README table)
    message: str  # str.format template; rules fill it
    what_it_does: str
    why_bad: str
    example: str  # bad code; a line that must be reported ends in `# expect: PFT102@col` (1-based)
    use_instead: str  # good code: must produce nothing
    fix_applicability: Applicability
    fix_safety: str
    hazards: tuple[Hazard, ...]  # what it reports: each hazard of peft_facts belongs to exactly one rule
    check: Check

    @property
    def effects(self) -> tuple[Effect, ...]:
        return tuple(e for hazard in self.hazards for e in hazard.effects)

    @property
    def affected(self) -> str:
        """Versions affected, as docs show them."""
        seen: dict[str, None] = {}
        for effect in self.effects:
            seen.setdefault(str(effect.affected), None)
        if "every peft" in seen:
            return "every peft"
        return "; ".join(seen)


def example_expectations(source: str) -> list[tuple[int, int, str]]:
    """The `(line, 1-based col, code)` triples a rule example's `# expect:` comments promise."""
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            for item in match.group(1).split():
                code, _, col = item.partition("@")
                found.append((number, int(col), code))
    return found


def strip_expectations(source: str) -> str:
    """A rule example as the docs show it."""
    return "\n".join(EXPECT.sub("", line) for line in source.splitlines()) + "\n"


def effects_text(effects: Iterable[Effect]) -> str:
    return "; ".join(f"{e.affected} {e.consequence}" for e in effects)


def hitting(hazards: Iterable[Hazard], supported: frozenset[Version]) -> tuple[Effect, ...]:
    """The effects of these hazards that happen in a supported peft version."""
    return tuple(e for hazard in hazards for e in hazard.effects if e.affected.hits(supported))


def used_on(lines: list[int]) -> str:
    """`line 13`, `lines 13 and 20`, `lines 13, 20 and 31`."""
    if len(lines) == 1:
        return f"line {lines[0]}"
    return "lines " + ", ".join(map(str, lines[:-1])) + f" and {lines[-1]}"
