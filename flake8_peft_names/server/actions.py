"""Code actions for one checked buffer: a quick fix per fixable finding (the fixer of `check --fix`), the
safe fixes of the whole file (`source.fixAll.flake8-peft-names`), and `# noqa: CODE` for a line."""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from lsprotocol import types

from .analysis import APPLIED, SAFE_ONLY, Applicability, Checked, Finding
from .diagnostics import Place, fix_of
from .noqa_edit import noqa_edit
from .positions import Edit, edits_between

FIX_ALL = "source.fixAll.flake8-peft-names"
FIX_ALL_TITLE = "Fix all safely fixable flake8-peft-names findings"
TIERS = {"all": APPLIED, "safe": SAFE_ONLY}
Fixer = Callable[[Sequence[int], frozenset], Optional[str]]  # indices, tiers -> the fixed text; None: cannot


def text_edits(edits: Sequence[Edit]) -> list[types.TextEdit]:
    return [
        types.TextEdit(
            types.Range(types.Position(e.start.line, e.start.character), types.Position(e.end.line, e.end.character)),
            e.new_text,
        )
        for e in edits
    ]


def wanted(kind: str, only: Optional[Sequence[str]]) -> bool:
    """Whether the client asked for actions of `kind` (`only` lists kinds and their parents)."""
    return not only or any(kind == o or kind.startswith(f"{o}.") for o in only)


def overlaps(place: Place, start: types.Position, end: types.Position) -> bool:
    before = (place.end.line, place.end.character) < (start.line, start.character)
    after = (place.start.line, place.start.character) > (end.line, end.character)
    return not before and not after


def fix_title(finding: Finding) -> str:
    assert finding.fix is not None
    unsafe = finding.fix.applicability is Applicability.UNSAFE
    return f"Fix {finding.code}: {finding.fix.description}" + (" (unsafe fix)" if unsafe else "")


def code_actions(
    uri: str,
    checked: Checked,
    places: Sequence[Place],
    diagnostics: Sequence[types.Diagnostic],
    links: dict[int, int],
    fixer: Fixer,
    params: types.CodeActionParams,
    encoding: str,
    lazy: Optional[str] = None,
) -> list[types.CodeAction]:
    """`lazy`: the check's key when the client resolves actions: fixes then come without their edit, which
    codeAction/resolve computes (LibCST takes long on a long file); the `# noqa` edits are always there."""
    only = params.context.only
    findings = checked.findings
    chosen = [i for i, place in enumerate(places) if overlaps(place, params.range.start, params.range.end)]
    actions: list[types.CodeAction] = []

    def action(title: str, kind: str, edits: Sequence[Edit], indices: Sequence[int], preferred: bool = False) -> None:
        change = types.WorkspaceEdit(changes={uri: text_edits(edits)})
        related = [diagnostics[i] for i in indices]
        actions.append(
            types.CodeAction(title, kind=kind, diagnostics=related or None, edit=change, is_preferred=preferred)
        )

    def deferred(
        title: str, kind: str, fixed: Sequence[int], tiers: str, shown: Sequence[int], preferred: bool
    ) -> None:
        data = {"uri": uri, "key": lazy, "fix": list(fixed), "tiers": tiers}
        related = [diagnostics[i] for i in shown]
        actions.append(types.CodeAction(title, kind=kind, diagnostics=related, data=data, is_preferred=preferred))

    if wanted(types.CodeActionKind.QuickFix, only):
        done: dict[int, int] = {}  # fixing finding -> index of the action's first diagnostic
        for index in chosen:
            fixing = fix_of(findings, index, links)
            if fixing is None or fixing.fix is None or fixing.fix.applicability not in APPLIED:
                continue
            source = findings.index(fixing)
            if source in done:
                continue
            preferred = fixing.fix.applicability is Applicability.SAFE
            if lazy is not None:
                done[source] = index
                deferred(fix_title(fixing), types.CodeActionKind.QuickFix, [source], "all", [index], preferred)
                continue
            new = fixer([source], APPLIED)
            edits = edits_between(checked.text, new, encoding) if new is not None else []
            if edits:
                done[source] = index
                action(fix_title(fixing), types.CodeActionKind.QuickFix, edits, [index], preferred=preferred)
        silenced: set[tuple[int, str]] = set()
        for index in chosen:
            finding = findings[index]
            if (finding.line, finding.code) in silenced:
                continue
            silenced.add((finding.line, finding.code))
            edit = noqa_edit(checked.lines, finding.line, finding.code, encoding)
            if edit is not None:
                title = f"Add `# noqa: {finding.code}` to line {finding.line}"
                action(title, types.CodeActionKind.QuickFix, [edit], [index])
    if wanted(FIX_ALL, only):
        safe = [i for i, f in enumerate(findings) if f.fix is not None and f.fix.applicability is Applicability.SAFE]
        if safe and lazy is not None:
            deferred(FIX_ALL_TITLE, FIX_ALL, safe, "safe", safe, False)
        elif safe:
            new = fixer(safe, SAFE_ONLY)
            edits = edits_between(checked.text, new, encoding) if new is not None else []
            if edits:
                action(FIX_ALL_TITLE, FIX_ALL, edits, safe)
    return actions


def resolve(action: types.CodeAction, checked: Checked, key: str, fixer: Fixer, encoding: str) -> types.CodeAction:
    """Fill in the edit of a fix that `code_actions` deferred; unchanged when the buffer changed since."""
    data = action.data if isinstance(action.data, dict) else {}
    if data.get("key") != key or data.get("tiers") not in TIERS:
        return action
    indices = [int(i) for i in data.get("fix", [])]
    if not indices or max(indices) >= len(checked.findings):
        return action
    new = fixer(indices, TIERS[data["tiers"]])
    if new is not None:
        edits = text_edits(edits_between(checked.text, new, encoding))
        action.edit = types.WorkspaceEdit(changes={str(data["uri"]): edits})
    return action
