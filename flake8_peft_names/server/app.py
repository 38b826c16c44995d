"""The language server: pygls over stdio, diagnostics pushed or pulled, code actions, config reloads.

A document that does not parse has no diagnostics of ours (the editor's Python support reports the syntax
error; the reason is logged once); an exception from the engine on one document is logged to the client and
that document gets no diagnostics, and the server goes on serving the others."""
from __future__ import annotations

import asyncio
import functools
import traceback
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from .. import __version__
from .actions import FIX_ALL, code_actions, resolve
from .analysis import CONFIG_FILES, Config, EngineError, FixFailed, fixed_text
from .configs import ConfigStore
from .diagnostics import SOURCE, Place, RuleHref, place_of, to_diagnostics
from .documents import Analysis, DocumentStore
from .notebook_docs import NOTEBOOK_SYNC, NotebookSupport
from .rule_links import RuleLinks
from .stdio import serve_stdio

T = TypeVar("T")
WATCHED = "**/{" + ",".join(CONFIG_FILES) + "}"


class PeftNamesServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            SOURCE, __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=NOTEBOOK_SYNC,
        )
        self.configs = ConfigStore()
        self.documents = DocumentStore(self.configs)
        self.notebooks = NotebookSupport(self)
        self.rule_links = RuleLinks()
        self.problems: dict[str, Optional[str]] = {}  # uri -> why it was last not checked
        self.config_errors: set[str] = set()  # config errors already shown
        self.waiting: dict[str, asyncio.Handle] = {}  # uri -> its pending check

    # -- what the client can do ------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        kind = self.workspace.position_encoding or types.PositionEncodingKind.Utf16
        return str(getattr(kind, "value", kind))

    @property
    def pulls(self) -> bool:
        """The client asks for diagnostics (textDocument/diagnostic) instead of being sent them."""
        document = self.client_capabilities.text_document
        return document is not None and document.diagnostic is not None

    @property
    def resolves_edits(self) -> bool:
        """The client asks for a code action's edit when the user picks it (codeAction/resolve)."""
        document = self.client_capabilities.text_document
        action = document.code_action if document else None
        return bool(action and action.resolve_support and "edit" in action.resolve_support.properties)

    @property
    def shows_related(self) -> bool:
        document = self.client_capabilities.text_document
        publish = document.publish_diagnostics if document else None
        return bool(self.pulls or (publish and publish.related_information))

    def log(self, kind: types.MessageType, message: str) -> None:
        self.window_log_message(types.LogMessageParams(kind, f"{SOURCE}: {message}"))

    # -- checking --------------------------------------------------------------------------------

    def path_of(self, uri: str) -> Path:
        path = to_fs_path(uri)
        if path:
            return Path(path)
        root = self.workspace.root_path or str(Path.cwd())
        return Path(root) / (uri.rsplit("/", 1)[-1] or "untitled.py")

    def analyse(self, uri: str) -> Optional[Analysis]:
        """The check of the open document `uri`; None (and a log message) when the engine failed on it."""
        document = self.workspace.get_text_document(uri)
        try:
            analysis = self.documents.analyse(uri, document.source, self.path_of(uri), deferred=True)
            asyncio.get_running_loop().call_soon(self.documents.free_spent)  # once this handler has answered
        except EngineError as error:
            if self.problems.get(uri) != str(error):  # once per failing text, not per request
                self.problems[uri] = str(error)
                self.log(types.MessageType.Error, f"{uri}: {error}")
            return None
        loaded = analysis.loaded
        if loaded.error and loaded.error not in self.config_errors:
            self.config_errors.add(loaded.error)
            self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, loaded.error))
        problem = analysis.checked.problem
        if problem != self.problems.get(uri):
            self.problems[uri] = problem
            if problem:
                self.log(types.MessageType.Log, f"{uri}: not checked: {problem}")
        return analysis

    def places(self, analysis: Analysis) -> list[Place]:
        lines = analysis.checked.lines
        return [place_of(analysis.uri, lines, f, self.encoding) for f in analysis.checked.findings]

    def diagnostics(self, analysis: Optional[Analysis]) -> list[types.Diagnostic]:
        if analysis is None:
            return []
        checked, href = analysis.checked, self.rule_href(analysis.loaded.config)
        return to_diagnostics(self.places(analysis), checked.findings, analysis.links, self.shows_related, href)

    def rule_href(self, config: Config) -> RuleHref:
        """Each rule's page for a document read with `config` (its `rule-docs-url`, else the cached page)."""
        return lambda code: self.rule_links.href(code, config.rule_docs_url)

    def publish_soon(self, uri: str) -> None:
        """Check `uri` once the messages that have arrived are handled (stdio.py): a burst of changes is checked
        once, as it stands after the last one, and an isolated change at once."""
        pending = self.waiting.pop(uri, None)
        if pending is not None:
            pending.cancel()
        if not self.pulls:
            self.waiting[uri] = asyncio.get_running_loop().call_soon(self._publish_pending, uri)

    def _publish_pending(self, uri: str) -> None:
        self.waiting.pop(uri, None)
        try:
            if uri in self.workspace.text_documents:
                self.publish(uri)
        except Exception as error:  # a bug of ours: logged, the server goes on
            self.log(types.MessageType.Error, f"internal error while checking {uri}: {error!r}")

    def publish(self, uri: str) -> None:
        pending = self.waiting.pop(uri, None)
        if pending is not None:
            pending.cancel()
        if self.pulls:
            return
        version = self.workspace.get_text_document(uri).version
        diagnostics = self.diagnostics(self.analyse(uri))
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, diagnostics, version))

    def recheck_all(self) -> None:
        """The config may have changed: every open document is checked again."""
        self.configs.forget()
        if self.pulls:
            workspace = self.client_capabilities.workspace
            if workspace and workspace.diagnostics and workspace.diagnostics.refresh_support:
                self.workspace_diagnostic_refresh(None)
            return
        cells = self.notebooks.cell_uris()
        for uri in list(self.workspace.text_documents):
            if uri not in cells:
                self._publish_pending(uri)  # each on its own: one document's bug does not stop the others
        self.notebooks.publish_all()

    def fixer(self, analysis: Analysis) -> Callable[[Sequence[int], frozenset], Optional[str]]:
        def fix(indices: Sequence[int], tiers: frozenset) -> Optional[str]:
            key = (tuple(indices), tiers)
            if key not in analysis.fixes:
                chosen = [analysis.checked.findings[i] for i in indices]
                try:
                    analysis.fixes[key] = fixed_text(analysis.checked, chosen, tiers)
                except FixFailed as error:
                    self.log(types.MessageType.Warning, f"{analysis.uri}: cannot fix: {error}")
                    return None
            return analysis.fixes[key]

        return fix


def guarded(default: Callable[[Any], Any]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """A handler that logs its exception to the client and answers `default(params)`: one document's bug must
    not stop the server."""

    def wrap(handler: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(handler)
        def run(server: PeftNamesServer, params: Any) -> T:
            try:
                return handler(server, params)
            except Exception as error:  # a bug of ours: logged, the server goes on
                where = "".join(traceback.format_exception(type(error), error, error.__traceback__)[-3:])
                server.log(types.MessageType.Error, f"internal error in {handler.__name__}: {error!r}\n{where}")
                answer: T = default(params)
                return answer

        return run

    return wrap


def build_server() -> PeftNamesServer:
    server = PeftNamesServer()

    @server.feature(types.INITIALIZED)
    @guarded(lambda _: None)
    def initialized(ls: PeftNamesServer, params: types.InitializedParams) -> None:
        workspace = ls.client_capabilities.workspace
        watch = workspace.did_change_watched_files if workspace else None
        if watch and watch.dynamic_registration:
            options = types.DidChangeWatchedFilesRegistrationOptions([types.FileSystemWatcher(WATCHED)])
            method = types.WORKSPACE_DID_CHANGE_WATCHED_FILES
            registration = types.Registration("flake8-peft-names-config", method, options)
            ls.client_register_capability(types.RegistrationParams([registration]))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded(lambda _: None)
    def did_open(ls: PeftNamesServer, params: types.DidOpenTextDocumentParams) -> None:
        if not ls.notebooks.is_cell(params.text_document.uri):
            ls.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded(lambda _: None)
    def did_change(ls: PeftNamesServer, params: types.DidChangeTextDocumentParams) -> None:
        if not ls.notebooks.is_cell(params.text_document.uri):
            ls.publish_soon(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded(lambda _: None)
    def did_close(ls: PeftNamesServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        pending = ls.waiting.pop(uri, None)
        if pending is not None:
            pending.cancel()
        ls.documents.forget(uri)
        ls.problems.pop(uri, None)
        if not ls.pulls:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(identifier=SOURCE, inter_file_dependencies=False, workspace_diagnostics=False),
    )
    @guarded(lambda _: types.RelatedFullDocumentDiagnosticReport(items=[]))
    def pull(ls: PeftNamesServer, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
        uri = params.text_document.uri
        if ls.notebooks.is_cell(uri):
            return ls.notebooks.cell_report(uri, params.previous_result_id)
        analysis = ls.analyse(uri)
        if analysis is not None and params.previous_result_id == analysis.result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=analysis.result_id)
        result_id = analysis.result_id if analysis else None
        return types.RelatedFullDocumentDiagnosticReport(items=ls.diagnostics(analysis), result_id=result_id)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=True),
    )
    @guarded(lambda _: [])
    def code_action(ls: PeftNamesServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        if ls.notebooks.is_cell(uri):
            return ls.notebooks.code_actions(params)
        analysis = ls.analyse(uri)
        if analysis is None:
            return []
        places, diagnostics = ls.places(analysis), ls.diagnostics(analysis)
        lazy = analysis.key if ls.resolves_edits else None
        return code_actions(
            uri, analysis.checked, places, diagnostics, analysis.links, ls.fixer(analysis), params, ls.encoding, lazy
        )

    @server.feature(types.CODE_ACTION_RESOLVE)
    @guarded(lambda action: action)
    def code_action_resolve(ls: PeftNamesServer, action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        uri = str(data.get("uri", ""))
        if uri not in ls.workspace.text_documents or ls.notebooks.is_cell(uri):
            return action
        analysis = ls.analyse(uri)
        if analysis is None:
            return action
        return resolve(action, analysis.checked, analysis.key, ls.fixer(analysis), ls.encoding)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded(lambda _: None)
    def watched(ls: PeftNamesServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(change.uri.rsplit("/", 1)[-1] in CONFIG_FILES for change in params.changes):
            ls.recheck_all()

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    @guarded(lambda _: None)
    def notebook_open(ls: PeftNamesServer, params: types.DidOpenNotebookDocumentParams) -> None:
        ls.notebooks.publish(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    @guarded(lambda _: None)
    def notebook_change(ls: PeftNamesServer, params: types.DidChangeNotebookDocumentParams) -> None:
        ls.notebooks.publish(params.notebook_document.uri, closed=_closed_cells(params))

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    @guarded(lambda _: None)
    def notebook_close(ls: PeftNamesServer, params: types.DidCloseNotebookDocumentParams) -> None:
        ls.notebooks.close(params.notebook_document.uri, [cell.uri for cell in params.cell_text_documents])
    return server


def _closed_cells(params: types.DidChangeNotebookDocumentParams) -> list[str]:
    structure = params.change.cells.structure if params.change.cells else None
    return [cell.uri for cell in (structure.did_close or [])] if structure else []


def main() -> int:
    serve_stdio(build_server())
    return 0
