"""Where a fix's `from peft import X` goes: where an import sorter (isort, ruff's `I001`) would put it.

Into an existing module-level `from peft import ...`, each name at its sorted place (isort's
order-by-type: CONSTANTS, then Classes, then functions); else a new `from peft import X` in the
third-party section of the leading import block, before the first `from` import whose module sorts after
`peft` (plain `import x` lines come first in a section, as the sorters put them); else a new section
after the standard-library one; else after the docstring and `from __future__` imports. Sections are
the runs of import lines between blank lines, as a sorted file has them.
"""
from __future__ import annotations

import sys
from typing import List, Optional, Sequence, Tuple

import libcst as cst

PEFT = "peft"
JOIN, NEW_SECTION, BEFORE = "join", "new section", "before"  # how the new line joins the import block
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"__future__"}


def name_key(name: str) -> Tuple[int, str]:
    """isort's and ruff's default member order (order-by-type)."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name


def add_peft_imports(module: cst.Module, names: Sequence[str]) -> cst.Module:
    """`module` importing `names` (not imported yet) from peft, where a sorter would put them."""
    body: List[cst.BaseStatement] = list(module.body)
    for index, statement in enumerate(body):
        found = _peft_import(statement)
        if found is not None and not isinstance(found.names, cst.ImportStar):
            body[index] = statement.with_deep_changes(found, names=_merged(found.names, names))
            return module.with_changes(body=body)
    aliases = [cst.ImportAlias(cst.Name(n)) for n in sorted(names, key=name_key)]
    new = cst.SimpleStatementLine([cst.ImportFrom(module=cst.Name(PEFT), names=aliases)])
    index, how = _place(body)
    follower = body[index] if index < len(body) else None
    if follower is not None and _module_of(follower) is None:  # code follows: the import block ends here
        wanted = 2 if isinstance(follower, (cst.FunctionDef, cst.ClassDef)) else 1
        leading = list(getattr(follower, "leading_lines", ()))
        blanks = len(leading) - len(_strip_blank(leading))
        if blanks < wanted:
            body[index] = follower.with_changes(leading_lines=[cst.EmptyLine()] * (wanted - blanks) + leading)
        new = new.with_changes(leading_lines=[cst.EmptyLine()] if how == NEW_SECTION else [])
    elif follower is not None and how != NEW_SECTION and getattr(follower, "leading_lines", None):
        # first in its section (JOIN) or a section of its own before this one (BEFORE): take its lead
        new = new.with_changes(leading_lines=getattr(follower, "leading_lines"))
        body[index] = follower.with_changes(leading_lines=[cst.EmptyLine()] if how == BEFORE else [])
    elif follower is not None and how == BEFORE:
        body[index] = follower.with_changes(leading_lines=[cst.EmptyLine()])
    else:
        new = new.with_changes(leading_lines=[cst.EmptyLine()] if how == NEW_SECTION else [])
    body.insert(index, new)
    return module.with_changes(body=body)


def _strip_blank(lines: List[cst.EmptyLine]) -> List[cst.EmptyLine]:
    """The leading lines without the blank ones at their start."""
    at = next((i for i, line in enumerate(lines) if line.comment is not None), len(lines))
    return lines[at:]


def _peft_import(statement: cst.BaseStatement) -> Optional[cst.ImportFrom]:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    node = statement.body[0]
    if isinstance(node, cst.ImportFrom) and not node.relative and isinstance(node.module, cst.Name):
        if node.module.value == PEFT and not isinstance(node.names, cst.ImportStar):
            return node
    return None


def _merged(aliases: Sequence[cst.ImportAlias], names: Sequence[str]) -> List[cst.ImportAlias]:
    """The aliases with `names` inserted in sorted place. Existing names keep their commas (and the
    comments on them); a new one gets the first comma's spacing without its comment; the last alias
    keeps the trailing comma (or none) the import had."""
    first = aliases[0].comma
    clean = first if isinstance(first, cst.Comma) else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if isinstance(clean.whitespace_after, cst.ParenthesizedWhitespace):
        spacing = clean.whitespace_after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        clean = clean.with_changes(whitespace_after=spacing)
    trailing = aliases[-1].comma
    merged: List[Tuple[cst.ImportAlias, bool]] = [(a, i < len(aliases) - 1) for i, a in enumerate(aliases)]
    for name in sorted(names, key=name_key):
        key = name_key(name)
        later = (i for i, (a, _) in enumerate(merged) if isinstance(a.name, cst.Name) and name_key(a.name.value) > key)
        at = next(later, len(merged))
        merged.insert(at, (cst.ImportAlias(cst.Name(name)), False))
    last = len(merged) - 1
    return [
        alias if keeps and i < last else alias.with_changes(comma=trailing if i == last else clean)
        for i, (alias, keeps) in enumerate(merged)
    ]


def _module_of(statement: cst.BaseStatement) -> Optional[Tuple[str, bool]]:
    """(top-level module, is a `from` import) of an import line; None for anything else."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    node = statement.body[0]
    if isinstance(node, cst.Import):
        return cst.Module([]).code_for_node(node.names[0].name), False
    if isinstance(node, cst.ImportFrom):
        if node.relative:
            return ".", True
        return (cst.Module([]).code_for_node(node.module) if node.module else "."), True
    return None


def _place(body: List[cst.BaseStatement]) -> Tuple[int, str]:
    """The index to insert a new `from peft import` line at, and how it joins the import block: JOIN a
    section, a NEW_SECTION after the one before, or a section of its own BEFORE the one at the index."""
    start = 0
    if body and _is_docstring(body[0]):
        start = 1
    sections: List[List[Tuple[int, str, bool]]] = []
    index = start
    while index < len(body):
        found = _module_of(body[index])
        if found is None:
            break
        blank = any(isinstance(line, cst.EmptyLine) for line in getattr(body[index], "leading_lines", ()))
        if not sections or blank:
            sections.append([])
        sections[-1].append((index, found[0], found[1]))
        index += 1
    for section in sections:
        tops = {module.split(".")[0] for _, module, _ in section}
        if tops <= STDLIB or "." in tops:
            continue
        for position, module, is_from in section:
            if is_from and module.lower() > PEFT:
                return position, JOIN
        return section[-1][0] + 1, JOIN
    after_stdlib = [s for s in sections if {m.split(".")[0] for _, m, _ in s} <= STDLIB]
    if after_stdlib:
        return after_stdlib[-1][-1][0] + 1, NEW_SECTION
    if sections:
        return sections[0][0][0], BEFORE
    return start, NEW_SECTION if start > 0 else JOIN


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )
