"""Notebook documents (LSP 3.17): the code cells of a notebook are checked together, as `check` checks a
.ipynb file, and each finding is shown in its cell; a fix edits every cell it changes."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Protocol

from lsprotocol import types
from pygls.workspace import Workspace

from .actions import fix_title, overlaps, text_edits, wanted
from .analysis import APPLIED, Applicability, CellsChecked, Config, EngineError, FixFailed, check_cells, fixed_cells
from .analysis import physical_lines
from .diagnostics import Place, RuleHref, definition_links, fix_of, place_of, to_diagnostics
from .noqa_edit import noqa_edit
from .positions import edits_between

from .configs import ConfigStore


class Server(Protocol):
    """What notebook support uses of the server (app.PeftNamesServer)."""

    configs: ConfigStore
    problems: dict[str, Optional[str]]  # uri -> why it was last not checked

    @property
    def workspace(self) -> Workspace: ...

    @property
    def encoding(self) -> str: ...

    @property
    def pulls(self) -> bool: ...

    @property
    def shows_related(self) -> bool: ...

    def log(self, kind: types.MessageType, message: str) -> None: ...

    def path_of(self, uri: str) -> Path: ...

    def rule_href(self, config: Config) -> RuleHref: ...

    def text_document_publish_diagnostics(self, params: types.PublishDiagnosticsParams) -> None: ...


NOTEBOOK_SYNC = types.NotebookDocumentSyncOptions(
    notebook_selector=[
        types.NotebookDocumentFilterWithCells(
            cells=[types.NotebookCellLanguage("python")], notebook="jupyter-notebook"
        )
    ],
)


@dataclass
class NotebookAnalysis:
    uri: str
    key: str
    cell_uris: list[str]  # every cell, in order
    checked: CellsChecked
    links: dict[int, int]
    config: Config  # the notebook's options (its rule pages' address)
    fixes: dict[tuple, Optional[list[str]]] = field(default_factory=dict)


class NotebookSupport:
    def __init__(self, server: Server) -> None:
        self.server = server
        self._cache: dict[str, NotebookAnalysis] = {}

    def is_cell(self, uri: str) -> bool:
        return self.server.workspace.get_notebook_document(cell_uri=uri) is not None

    def cell_uris(self) -> set[str]:
        return {cell.document for nb in self.server.workspace.notebook_documents.values() for cell in nb.cells}

    def analyse(self, notebook_uri: str) -> Optional[NotebookAnalysis]:
        server = self.server
        notebook = server.workspace.get_notebook_document(notebook_uri=notebook_uri)
        if notebook is None:
            return None
        uris = [cell.document for cell in notebook.cells]
        cells = [
            (cell.kind == types.NotebookCellKind.Code, server.workspace.get_text_document(cell.document).source)
            for cell in notebook.cells
        ]
        path = server.path_of(notebook_uri)
        loaded = server.configs.for_folder(path.parent)
        digest = hashlib.blake2b(repr((cells, uris, str(path), loaded.file, loaded.stamp)).encode(), digest_size=16)
        key = digest.hexdigest()
        cached = self._cache.get(notebook_uri)
        if cached is not None and cached.key == key:
            return cached
        try:
            checked = check_cells(cells, str(path), loaded.config)
        except EngineError as error:
            server.log(types.MessageType.Error, f"{notebook_uri}: {error}")
            self._cache.pop(notebook_uri, None)
            return None
        if checked.problem and checked.problem != server.problems.get(notebook_uri):
            server.log(types.MessageType.Log, f"{notebook_uri}: not checked: {checked.problem}")
        server.problems[notebook_uri] = checked.problem
        analysis = NotebookAnalysis(notebook_uri, key, uris, checked, definition_links(checked.findings), loaded.config)
        self._cache[notebook_uri] = analysis
        return analysis

    def _places(self, analysis: NotebookAnalysis) -> list[Optional[Place]]:
        places: list[Optional[Place]] = []
        for placed in analysis.checked.placed:
            if placed is None:
                places.append(None)
                continue
            cell, finding = placed
            lines = physical_lines(analysis.checked.texts[cell])
            places.append(place_of(analysis.cell_uris[cell], lines, finding, self.server.encoding))
        return places

    def cell_diagnostics(self, analysis: Optional[NotebookAnalysis]) -> dict[str, list[types.Diagnostic]]:
        """Every cell's diagnostics (empty lists included, so that stale ones go)."""
        if analysis is None:
            return {}
        result: dict[str, list[types.Diagnostic]] = {uri: [] for uri in analysis.cell_uris}
        places = self._places(analysis)
        shown = [i for i, p in enumerate(places) if p is not None]
        chosen = [places[i] for i in shown]
        findings = [analysis.checked.placed[i][1] for i in shown]  # type: ignore[index]
        links = {shown.index(u): shown.index(d) for u, d in analysis.links.items() if u in shown and d in shown}
        href = self.server.rule_href(analysis.config)
        diagnostics = to_diagnostics(chosen, findings, links, self.server.shows_related, href)  # type: ignore[arg-type]
        for place, diagnostic in zip(chosen, diagnostics):
            result[place.uri].append(diagnostic)  # type: ignore[union-attr]
        return result

    def publish(self, notebook_uri: str, closed: Optional[list[str]] = None) -> None:
        server = self.server
        for uri in closed or []:
            server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))
        if server.pulls:
            return
        analysis = self.analyse(notebook_uri)
        notebook = server.workspace.get_notebook_document(notebook_uri=notebook_uri)
        cells = [cell.document for cell in notebook.cells] if notebook else []
        by_cell = self.cell_diagnostics(analysis)
        for uri in cells:
            server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, by_cell.get(uri, [])))

    def publish_all(self) -> None:
        for uri in list(self.server.workspace.notebook_documents):
            self.publish(uri)

    def close(self, notebook_uri: str, cells: list[str]) -> None:
        self._cache.pop(notebook_uri, None)
        self.server.problems.pop(notebook_uri, None)
        if not self.server.pulls:
            for uri in cells:
                self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

    def _notebook_of(self, cell_uri: str) -> Optional[NotebookAnalysis]:
        notebook = self.server.workspace.get_notebook_document(cell_uri=cell_uri)
        return self.analyse(notebook.uri) if notebook else None

    def cell_report(self, cell_uri: str, previous: Optional[str]) -> types.DocumentDiagnosticReport:
        analysis = self._notebook_of(cell_uri)
        if analysis is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        result_id = f"{analysis.key}:{cell_uri}"
        if previous == result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        items = self.cell_diagnostics(analysis).get(cell_uri, [])
        return types.RelatedFullDocumentDiagnosticReport(items=items, result_id=result_id)

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        """Quick fixes that edit every cell the fix changes, and `# noqa` in the cell."""
        analysis = self._notebook_of(params.text_document.uri)
        if analysis is None or not wanted(types.CodeActionKind.QuickFix, params.context.only):
            return []
        cell_uri = params.text_document.uri
        lines = physical_lines(analysis.checked.texts[analysis.cell_uris.index(cell_uri)])
        places = self._places(analysis)
        mine = [i for i, p in enumerate(places) if p is not None and p.uri == cell_uri]
        diagnostics = self.cell_diagnostics(analysis).get(cell_uri, [])
        fixes: list[types.CodeAction] = []
        silencers: list[types.CodeAction] = []
        done: set[int] = set()
        silenced: set[tuple[int, str]] = set()
        for position, index in enumerate(mine):
            place = places[index]
            if place is None or not overlaps(place, params.range.start, params.range.end):
                continue
            diagnostic = [diagnostics[position]]
            fixing = fix_of(analysis.checked.findings, index, analysis.links)
            if fixing is not None and fixing.fix is not None and fixing.fix.applicability in APPLIED:
                source = analysis.checked.findings.index(fixing)
                changes = {} if source in done else self._fix_changes(analysis, [source])
                done.add(source)
                if changes:
                    preferred = fixing.fix.applicability is Applicability.SAFE
                    edit = types.WorkspaceEdit(changes=changes)
                    kind = types.CodeActionKind.QuickFix
                    fixes.append(types.CodeAction(
                        fix_title(fixing), kind=kind, diagnostics=diagnostic, edit=edit, is_preferred=preferred
                    ))
            code, line = diagnostic[0].code, place.start.line + 1
            repeated = (line, str(code)) in silenced
            noqa = None if repeated else noqa_edit(lines, line, str(code), self.server.encoding)
            silenced.add((line, str(code)))
            if noqa is not None:
                edit = types.WorkspaceEdit(changes={cell_uri: text_edits([noqa])})
                title = f"Add `# noqa: {code}` to line {line}"
                kind = types.CodeActionKind.QuickFix
                silencers.append(types.CodeAction(title, kind=kind, diagnostics=diagnostic, edit=edit))
        return fixes + silencers

    def _fix_changes(self, analysis: NotebookAnalysis, indices: list[int]) -> dict[str, list[types.TextEdit]]:
        key = tuple(indices)
        if key not in analysis.fixes:
            try:
                chosen = [analysis.checked.findings[i] for i in indices]
                analysis.fixes[key] = fixed_cells(analysis.checked, chosen, APPLIED)
            except FixFailed as error:
                self.server.log(types.MessageType.Warning, f"{analysis.uri}: cannot fix: {error}")
                analysis.fixes[key] = None
        new = analysis.fixes[key]
        if new is None:
            return {}
        changes = {}
        for uri, old, text in zip(analysis.cell_uris, analysis.checked.texts, new):
            if old != text:
                changes[uri] = text_edits(edits_between(old, text, self.server.encoding))
        return changes
