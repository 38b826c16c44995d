"""Apply the fix intents of findings with LibCST: every byte a fix does not touch stays as it was.

The checker finds problems on `ast`; this module only edits. Each applicable finding names a span
(line, col)-(end_line, end_col) in characters; the edit is made at the LibCST node with exactly that
span (LibCST's `PositionProvider` also counts characters and, like `ast`, leaves out parentheses).
`fix_source` (the CLI) and `codemod.FixPeftNames` (`python -m libcst.tool codemod`) share
`apply_fixes`.
"""
from __future__ import annotations

import ast
import importlib.util
import sys
import threading
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple, TypeVar, Union, cast

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import GatherImportsVisitor
from libcst.metadata import MetadataWrapper, PositionProvider

from .errors import error_line, one_line
from .import_placement import add_peft_imports
from .rule import Applicability, Finding, FixIntent, RenameAdapter, ReplaceExpression
from .source_files import physical_lines, quiet_parse

Span = Tuple[int, int, int, int]  # line, col, end_line, end_col: 1-based lines, 0-based character columns
APPLIED_TIERS = frozenset({Applicability.SAFE, Applicability.UNSAFE})
IMPORTS_FROM = "peft"


class FixError(Exception):
    """The file cannot be fixed (e.g. LibCST cannot parse it); str() is a one-line reason."""


def fix_source(source: bytes, findings: Sequence[Finding], applicable: frozenset[Applicability]) -> bytes:
    """`source` with the fixes of `findings` whose applicability is in `applicable` applied.

    Returns `source` itself when nothing applies or nothing changes. LibCST parses the file only
    when at least one fix applies. Raises FixError, and nothing else, when the file cannot be parsed
    or encoded, is too deeply nested for LibCST, a fix cannot be built, or the result would not parse.
    """
    if not applicable_edits(findings, applicable):
        return source
    depth = _nesting(source)
    if depth > MAX_LIBCST_NESTING:
        limit = f"{depth} levels, at most {MAX_LIBCST_NESTING}"
        raise FixError(f"too deeply nested for LibCST ({limit}), so nothing was changed")
    try:
        new = _with_deep_stack(_fix_with_libcst, source, findings, applicable)
    except FixError:
        raise
    except (RecursionError, MemoryError):
        raise FixError("too deeply nested for LibCST, so nothing was changed") from None
    except Exception as error:  # a bug in LibCST or in a fix: this file stays as it is, the run goes on
        raise FixError(f"internal error, so nothing was changed: {_one_line(error)}; please report it") from error
    if new == source:
        return source
    check_parses(new)
    return new


def _fix_with_libcst(source: bytes, findings: Sequence[Finding], applicable: frozenset[Applicability]) -> bytes:
    try:
        module = cst.parse_module(source)
    except Exception as error:  # ParserSyntaxError, and LibCST's own bugs (TypeError on valid code)
        raise FixError(f"LibCST cannot parse this file: {_one_line(error)}") from None
    if module.bytes != source:
        raise FixError(NOT_REPRODUCED)
    fixed = apply_fixes(module, findings, applicable)
    if fixed is module:
        return source
    try:
        return fixed.bytes
    except UnicodeEncodeError as error:
        reason = f"the fixed code cannot be written in the file's encoding ({fixed.encoding}): {error.reason}"
        raise FixError(reason) from None


# LibCST recurses several Python frames deep per nesting level of the code (parsing, cloning, visiting,
# generating code), and its parser slows down with the square of the nesting: it runs in a thread with a
# large stack and recursion limit, on files nested at most this many levels (`ast` accepts about 3,000).
MAX_LIBCST_NESTING = 1000
# LibCST 1.9 drops a leading form feed and a last line's lone '\r': writing its code back would change them.
NOT_REPRODUCED = "LibCST cannot reproduce this file byte for byte, so nothing was changed"
_STACK_BYTES = 256 * 1024 * 1024
_RECURSION_LIMIT = 20_000
_deep_stack_lock = threading.Lock()
_T = TypeVar("_T")


def _with_deep_stack(function: Callable[..., _T], *args: object) -> _T:
    """`function(*args)` in a thread with room for deeply nested code; re-raises what it raises."""
    outcome: Dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # handed to the calling thread
            outcome["error"] = error

    with _deep_stack_lock:  # the recursion limit is per interpreter: one deep call at a time
        limit = sys.getrecursionlimit()
        try:
            previous_stack = threading.stack_size(_STACK_BYTES)
        except (ValueError, RuntimeError):  # a platform without settable thread stacks
            return function(*args)
        try:
            sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
            thread = threading.Thread(target=target, name="flake8-peft-names-fix", daemon=True)
            thread.start()
        finally:
            threading.stack_size(previous_stack)
        try:
            thread.join()
        finally:
            sys.setrecursionlimit(limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _nesting(source: bytes) -> int:
    """How deeply the `ast` of `source` nests (0 when Python cannot parse it: LibCST will say why)."""
    try:
        tree = quiet_parse(importlib.util.decode_source(source))
    except (SyntaxError, ValueError, LookupError, RecursionError, MemoryError):
        return 0
    deepest = 0
    stack: List[Tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def applicable_edits(findings: Sequence[Finding], applicable: frozenset[Applicability]) -> Dict[Span, FixIntent]:
    """The edit of each finding whose fix may be applied, by span (the first finding at a span wins). A rename
    also edits every literal it lists: the other uses of the value, which are no findings themselves."""
    allowed = applicable & APPLIED_TIERS  # display-only and no-fix are never applied, whatever the caller says
    edits: Dict[Span, FixIntent] = {}
    for finding in findings:
        if finding.fix is not None and finding.fix.applicability in allowed:
            edits.setdefault((finding.line, finding.col, finding.end_line, finding.end_col), finding.fix.intent)
    for intent in list(edits.values()):
        if isinstance(intent, RenameAdapter):
            for site in intent.sites:
                edits.setdefault(site, intent)
    return edits


def apply_fixes(module: cst.Module, findings: Sequence[Finding], applicable: frozenset[Applicability]) -> cst.Module:
    """`module` with the applicable fixes made; `module` itself when no edit takes effect."""
    edits = applicable_edits(findings, applicable)
    if not edits:
        return module
    transformer = _FixTransformer(edits, module.config_for_parsing)
    body = list(module.body)
    for first, end, lines_before in _runs_holding(module, {span[0] for span in edits}):
        # positions only where the edits are: LibCST's PositionProvider costs most of a fix on a long file
        transformer.lines_before = lines_before
        alone = module.with_changes(header=(), body=body[first:end], footer=())
        body[first:end] = MetadataWrapper(alone).visit(transformer).body
    fixed = module.with_changes(body=body)
    if not transformer.changed:
        return module
    present = _imported_from_peft(fixed)
    needed = [name for name in dict.fromkeys(transformer.imports) if name not in present and "*" not in present]
    if needed:  # where an import sorter would put them: ruff and isort find nothing to move
        fixed = add_peft_imports(fixed, needed)
    return fixed


def _runs_holding(module: cst.Module, lines: Set[int]) -> List[Tuple[int, int, int]]:
    """(first, end, lines of code before it) of each run `module.body[first:end]` of top-level statements on
    which one of `lines` falls. The positions in a run, taken alone, are those in the module less that many
    lines: LibCST counts lines in the code it writes, and a run starts a line (a statement that does not end
    its last line joins the run of the next)."""
    before = sum(_line_breaks(module.code_for_node(line)) for line in module.header)
    runs: List[Tuple[int, int, int]] = []
    first, start = 0, before
    for index, statement in enumerate(module.body):
        code = module.code_for_node(statement)
        before += _line_breaks(code)
        ends_line = code.endswith(("\n", "\r"))
        if not ends_line and index + 1 < len(module.body):
            continue
        last = before if ends_line else before + 1
        if any(start < line <= last for line in lines):
            runs.append((first, index + 1, start))
        first, start = index + 1, before
    return runs


def _line_breaks(code: str) -> int:
    """LibCST's PositionProvider breaks lines where `physical_lines` does (tests/test_fixer.py holds it to that)."""
    lines = physical_lines(code)
    return len(lines) - (1 if lines and not lines[-1].endswith(("\n", "\r")) else 0)


def check_parses(code: Union[bytes, str]) -> None:
    """Raise FixError unless Python can parse `code` (bytes are decoded as Python reads a file)."""
    try:
        text = importlib.util.decode_source(code) if isinstance(code, bytes) else code
        quiet_parse(text)
    except (SyntaxError, ValueError, LookupError, RecursionError, MemoryError) as error:  # ValueError: null bytes
        raise FixError(f"the fixed code would not parse, so nothing was changed: {_one_line(error)}") from None


class _FixTransformer(cst.CSTTransformer):
    """Makes each edit at the node whose position is exactly the edit's span."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, edits: Dict[Span, FixIntent], config: cst.PartialParserConfig) -> None:
        super().__init__()
        self.edits = edits
        self.config = config
        # The rename of a name applies wherever the fixes put that literal, replacements included.
        self.renames: Dict[str, str] = {}
        for intent in edits.values():
            if isinstance(intent, RenameAdapter):
                self.renames.setdefault(intent.old, intent.new)
        self.claimed: Dict[Span, cst.CSTNode] = {}
        self.lines_before = 0  # positions are of the run of statements visited alone: this many lines come before it
        self.imports: List[str] = []
        self.changed = False

    def _span(self, node: cst.CSTNode) -> Optional[Span]:
        position = self.get_metadata(PositionProvider, node, None)
        if position is None:
            return None
        before = self.lines_before
        return (position.start.line + before, position.start.column, position.end.line + before, position.end.column)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.BaseExpression):
            span = self._span(node)
            if span is not None and span in self.edits:
                self.claimed.setdefault(span, node)  # the outermost node with this span
        return True

    def on_leave(self, original_node: cst.CSTNodeT, updated_node: cst.CSTNodeT) -> cst.CSTNodeT:
        if not isinstance(original_node, cst.BaseExpression):
            return updated_node
        span = self._span(original_node)
        if span is None or self.claimed.get(span) is not original_node:
            return updated_node
        intent = self.edits[span]
        if isinstance(intent, RenameAdapter):
            new = renamed_literal(original_node, intent.old, intent.new)
        else:
            new = self._replacement(original_node, intent, span)
        if new is None:
            return updated_node
        self.changed = True
        return cast(cst.CSTNodeT, new)  # an expression in place of an expression

    def _replacement(self, original: cst.BaseExpression, intent: ReplaceExpression, span: Span) -> cst.BaseExpression:
        try:
            expression = cst.parse_expression(intent.replacement, config=self.config)
        except Exception as error:
            raise FixError(
                f"the fix at line {span[0]} column {span[1] + 1} is not a Python expression: "
                f"{intent.replacement!r} ({_one_line(error)})"
            ) from None
        if self.renames:
            renamed = expression.visit(_RenameLiterals(self.renames))
            assert isinstance(renamed, cst.BaseExpression)
            expression = renamed
        if original.lpar:
            expression = expression.with_changes(
                lpar=[*original.lpar, *expression.lpar], rpar=[*expression.rpar, *original.rpar]
            )
        elif not expression.lpar and not isinstance(expression, _ATOMS):
            # `a + b` in place of `x` in `x * 2` needs its parentheses
            expression = expression.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        self.imports.extend(intent.imports)
        return expression


# Expressions that bind at least as tightly as any operand position they can be put in.
_ATOMS = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.SimpleString,
    cst.FormattedString,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.Ellipsis,
    cst.List,
    cst.Dict,
    cst.Set,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
)


class _RenameLiterals(cst.CSTTransformer):
    """Applies the renames to the string literals of a replacement expression."""

    def __init__(self, renames: Dict[str, str]) -> None:
        super().__init__()
        self.renames = renames

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.BaseExpression:
        value = _string_value(original_node)
        if value in self.renames:
            return renamed_literal(original_node, value, self.renames[value]) or updated_node
        return updated_node


def renamed_literal(node: cst.BaseExpression, old: str, new: str) -> Optional[cst.BaseExpression]:
    """The string literal `node` holding `new` instead of `old`, in the same quotes and prefix; None
    when `node` is no plain literal with the value `old` (a name, an f-string, bytes)."""
    if isinstance(node, cst.SimpleString):
        parts: Optional[List[cst.SimpleString]] = [node]
    elif isinstance(node, cst.ConcatenatedString) and not _has_comment(node):
        parts = _concatenated_parts(node)
    else:
        return None
    if parts is None:
        return None
    values = [value for value in map(_string_value, parts) if value is not None]
    if len(values) != len(parts) or "".join(values) != old:
        return None
    first = parts[0]
    text = _string_literal(first.value[: len(first.prefix)], first.quote, new)
    return cst.SimpleString(text, lpar=node.lpar, rpar=node.rpar)


def _string_value(node: cst.SimpleString) -> Optional[str]:
    try:
        value = node.evaluated_value
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _concatenated_parts(node: cst.ConcatenatedString) -> Optional[List[cst.SimpleString]]:
    parts: List[cst.SimpleString] = []
    current: cst.BaseExpression = node
    while isinstance(current, cst.ConcatenatedString):
        if not isinstance(current.left, cst.SimpleString) or current.left.lpar:
            return None
        parts.append(current.left)
        current = current.right
    if not isinstance(current, cst.SimpleString) or current.lpar:
        return None
    return [*parts, current]


def _has_comment(node: cst.CSTNode) -> bool:
    return "#" in "".join(
        cst.Module([]).code_for_node(n.whitespace_between)
        for n in _walk_concatenation(node)
    )


def _walk_concatenation(node: cst.CSTNode) -> Iterator[cst.ConcatenatedString]:
    while isinstance(node, cst.ConcatenatedString):
        yield node
        node = node.right


def _string_literal(prefix: str, quote: str, value: str) -> str:
    """`value` written as a literal with this prefix and quote; the prefix loses its `r` when the
    value cannot be written raw."""
    if "r" in prefix.lower() and all(c.isprintable() and c not in ("\\", quote[0]) for c in value):
        text = f"{prefix}{quote}{value}{quote}"
    else:
        prefix = prefix.replace("r", "").replace("R", "")
        body = "".join(
            "\\\\" if c == "\\" else "\\" + c if c == quote[0] else c if c.isprintable() else repr(c)[1:-1]
            for c in value
        )
        text = f"{prefix}{quote}{body}{quote}"
    try:
        if ast.literal_eval(text) == value:
            return text
    except (SyntaxError, ValueError):
        pass
    return repr(value)


def _imported_from_peft(module: cst.Module) -> Set[str]:
    """Names the module already imports, unaliased, from peft or one of its modules, outside
    functions and classes (`from peft.utils import get_peft_model_state_dict` counts: importing it
    again would shadow it). `*` stands for every name, after `from peft import *`."""
    gatherer = _GatherModuleImports(CodemodContext())
    module.visit(gatherer)
    names: Set[str] = set()
    for source, objects in gatherer.object_mapping.items():
        if source == IMPORTS_FROM:
            names |= objects
        elif source.startswith(IMPORTS_FROM + "."):
            names |= objects - {"*"}
    return names


class _GatherModuleImports(GatherImportsVisitor):
    """LibCST's import gatherer, kept to module scope: a function's own import is no module name."""

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def _one_line(error: BaseException) -> str:
    if isinstance(error, cst.ParserSyntaxError):
        return one_line(f"syntax error near line {error.raw_line}: {error.message}")
    if isinstance(error, SyntaxError):
        return one_line(f"line {error.lineno}: {error.msg}")
    return error_line(error)
