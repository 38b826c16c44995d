"""End to end: the real `flake8-peft-names server` process, driven over stdio by a real LSP client
(pytest-lsp on pygls). Quick fixes are compared with what `check --fix --unsafe-fixes` writes."""
from __future__ import annotations

import asyncio
import atexit
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse
from typing import Callable, Optional, Sequence

import pytest

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from flake8_peft_names.docs import rule_page
from flake8_peft_names.rules import RULES_BY_CODE
from tests.lsp_server_doubles import PLANTED, plant, restore

pytestmark = pytest.mark.prepush  # a server process per test (tiers: tests/conftest.py)

ROOT = Path(__file__).resolve().parent.parent
# the servers write the rule pages they link into a cache folder of this run, not the user's
CACHE = tempfile.mkdtemp(prefix="flake8-peft-names-cache-")
atexit.register(shutil.rmtree, CACHE, True)
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    "XDG_CACHE_HOME": CACHE,
}
UNWRITABLE_CACHE = {**ENV, "XDG_CACHE_HOME": os.devnull + "/cache"}  # a folder inside a file: never created
SERVER = [sys.executable, "-m", "flake8_peft_names", "server"]
DOUBLES = [sys.executable, str(ROOT / "tests" / "lsp_server_doubles.py")]
WAIT = 30.0

BAD = (
    "from peft import PeftModel, get_peft_model\n"
    "\n"
    'NAME = "lora"\n'
    "\n"
    "\n"
    "def build(base, config):\n"
    "    model = get_peft_model(base, config, adapter_name=NAME)\n"
    '    model.load_adapter("x", adapter_name="to")  # noqa: E501\n'
    "    return model\n"
)
CLEAN = BAD.replace('"lora"', '"sft"').replace('"to"', '"ref"')
STATE_DICT = (
    "import torch\n"
    "from peft import LoraConfig, get_peft_model\n\n"
    'config = LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=["head"])\n'
    "model = get_peft_model(base_model, config)\n"
    'lora_state = {k: v for k, v in model.state_dict().items() if "lora" in k}\n'
    'torch.save(lora_state, "lora.pt")\n'
)


# ---------------------------------------------------------------------------------------------
# The client side


def capabilities(pull: bool = False, resolve: bool = False) -> types.ClientCapabilities:
    kinds = [types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll]
    return types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(related_information=True),
            diagnostic=types.DiagnosticClientCapabilities() if pull else None,
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    types.ClientCodeActionKindOptions(kinds)
                ),
                is_preferred_support=True,
                resolve_support=types.ClientCodeActionResolveOptions(["edit"]) if resolve else None,
                data_support=resolve,
            ),
        ),
        notebook_document=types.NotebookDocumentClientCapabilities(types.NotebookDocumentSyncClientCapabilities()),
        workspace=types.WorkspaceClientCapabilities(
            diagnostics=types.DiagnosticWorkspaceClientCapabilities(refresh_support=True) if pull else None,
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)
            if pull
            else None,
        ),
    )


async def start(client: LanguageClient, folder: Path, pull: bool = False, resolve: bool = False) -> None:
    (folder / "setup.cfg").write_text("[flake8]\nmax-line-length = 120\n")
    await client.initialize_session(
        types.InitializeParams(capabilities=capabilities(pull, resolve), root_uri=folder.as_uri(), workspace_folders=[
            types.WorkspaceFolder(folder.as_uri(), "project")
        ])
    )


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def client(lsp_client: LanguageClient, tmp_path: Path):
    await start(lsp_client, tmp_path)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def pull_client(lsp_client: LanguageClient, tmp_path: Path):
    registered: list[types.Registration] = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        registered.extend(params.registrations)

    lsp_client.registered = registered  # type: ignore[attr-defined]
    await start(lsp_client, tmp_path, pull=True)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def resolve_client(lsp_client: LanguageClient, tmp_path: Path):
    await start(lsp_client, tmp_path, resolve=True)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=UNWRITABLE_CACHE))
async def no_cache_client(lsp_client: LanguageClient, tmp_path: Path):
    await start(lsp_client, tmp_path)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[*DOUBLES, "bug"], server_env=ENV))
async def bug_client(lsp_client: LanguageClient, tmp_path: Path):
    await start(lsp_client, tmp_path)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[*DOUBLES, "safe"], server_env=ENV))
async def safe_client(lsp_client: LanguageClient, tmp_path: Path):
    await start(lsp_client, tmp_path)
    yield
    await lsp_client.shutdown_session()


async def until(condition: Callable[[], object], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def diagnostics_after(client: LanguageClient, uris: Sequence[str], send: Callable[[], None]) -> list:
    """Send a notification and wait for the diagnostics it makes the server publish for each of `uris`."""
    for uri in uris:
        client.diagnostics.pop(uri, None)
    send()
    await until(lambda: all(uri in client.diagnostics for uri in uris), f"diagnostics of {uris}")
    return [list(client.diagnostics[uri]) for uri in uris]


async def open_file(client: LanguageClient, folder: Path, text: str, name: str = "train.py") -> tuple[str, list]:
    path = folder / name
    path.write_text(text)
    uri = path.as_uri()
    item = types.TextDocumentItem(uri, "python", 1, text)
    (found,) = await diagnostics_after(
        client, [uri], lambda: client.text_document_did_open(types.DidOpenTextDocumentParams(item))
    )
    return uri, found


def change(client: LanguageClient, uri: str, version: int, changes: list) -> Callable[[], None]:
    document = types.VersionedTextDocumentIdentifier(uri=uri, version=version)
    return lambda: client.text_document_did_change(types.DidChangeTextDocumentParams(document, changes))


def lsp_lines(text: str) -> list[str]:
    return io.StringIO(text, newline="").readlines()


def offset(text: str, position: types.Position) -> int:
    """The string index of an LSP position (UTF-16 columns)."""
    lines = lsp_lines(text)
    start = sum(len(line) for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units = 0
    for index, char in enumerate(line):
        if units >= position.character:
            return start + index
        units += 2 if ord(char) > 0xFFFF else 1
    return start + len(line)


def apply(text: str, edits: Sequence[types.TextEdit]) -> str:
    spans = sorted(((offset(text, e.range.start), offset(text, e.range.end), e.new_text) for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


async def actions_at(
    client: LanguageClient, uri: str, where: types.Range, only: Optional[list[str]] = None
) -> list[types.CodeAction]:
    params = types.CodeActionParams(
        types.TextDocumentIdentifier(uri), where, types.CodeActionContext(diagnostics=[], only=only)
    )
    found = await client.text_document_code_action_async(params)
    return [a for a in found or [] if isinstance(a, types.CodeAction)]


def cli_fix(folder: Path, name: str, text: str, *flags: str) -> str:
    """What `flake8-peft-names check --fix ...` writes into a copy of the file."""
    copy = folder / "cli-copy" / name
    copy.parent.mkdir(exist_ok=True)
    copy.write_text(text)
    command = [sys.executable, "-m", "flake8_peft_names", "check", "--fix", *flags, "-j", "1", str(copy)]
    subprocess.run(command, cwd=folder, env=ENV, capture_output=True, check=False)
    return copy.read_text()


def rng(line: int, start: int, end: int) -> types.Range:
    return types.Range(types.Position(line, start), types.Position(line, end))


WHOLE = types.Range(types.Position(0, 0), types.Position(99, 0))


# ---------------------------------------------------------------------------------------------
# Diagnostics


@pytest.mark.asyncio
async def test_open_publishes_ranges_codes_docs_and_definitions(client: LanguageClient, tmp_path: Path) -> None:
    uri, found = await open_file(client, tmp_path, BAD)
    by_start = {(d.range.start.line, d.range.start.character): d for d in found}
    assert [(d.code, d.range) for d in sorted(found, key=lambda d: d.range.start.line)] == [
        ("PFT102", rng(2, 7, 13)),  # the literal "lora" of NAME
        ("PFT102", rng(6, 54, 58)),  # NAME where it is used as an adapter name
        ("PFT101", rng(7, 41, 45)),  # "to"
    ]
    for diagnostic in found:
        assert diagnostic.source == "flake8-peft-names"
        assert diagnostic.severity == types.DiagnosticSeverity.Warning
        page = page_of(diagnostic)  # the rule's page, written by the server where the link points
        assert page == rule_page(RULES_BY_CODE[diagnostic.code])
        assert page.startswith(f"# {diagnostic.code} {RULES_BY_CODE[diagnostic.code].name}\n")
    use, definition = by_start[(6, 54)], by_start[(2, 7)]
    assert use.related_information[0].location == types.Location(uri, rng(2, 7, 13))
    assert use.related_information[0].message == "defined here"
    assert definition.related_information[0].location == types.Location(uri, rng(6, 54, 58))
    assert "[fix: unsafe]" in use.message  # its fix is at the definition


def page_of(diagnostic: types.Diagnostic) -> str:
    """The text at a diagnostic's rule link: a file:// URI of a page that exists."""
    assert diagnostic.code_description is not None, "no rule link"
    address = urlparse(diagnostic.code_description.href)
    assert address.scheme == "file", diagnostic.code_description.href
    return Path(unquote(address.path)).read_text(encoding="utf-8")


@pytest.mark.asyncio
async def test_rule_links_follow_the_rule_docs_url_setting(client: LanguageClient, tmp_path: Path) -> None:
    template = "https://docs.example.org/peft-names/{code}.html"
    (tmp_path / "setup.cfg").write_text(f"[flake8]\nmax-line-length = 120\nrule-docs-url = {template}\n")
    _, found = await open_file(client, tmp_path, BAD)
    assert sorted(d.code_description.href for d in found) == [
        "https://docs.example.org/peft-names/PFT101.html",
        "https://docs.example.org/peft-names/PFT102.html",
        "https://docs.example.org/peft-names/PFT102.html",
    ]


@pytest.mark.asyncio
async def test_no_rule_link_when_the_cache_cannot_be_written(no_cache_client: LanguageClient, tmp_path: Path) -> None:
    _, found = await open_file(no_cache_client, tmp_path, BAD)
    assert sorted(d.code for d in found) == ["PFT101", "PFT102", "PFT102"]
    assert all(d.code_description is None for d in found)


@pytest.mark.asyncio
async def test_full_and_incremental_changes(client: LanguageClient, tmp_path: Path) -> None:
    uri, found = await open_file(client, tmp_path, BAD)
    assert len(found) == 3
    (cleared,) = await diagnostics_after(
        client, [uri], change(client, uri, 2, [types.TextDocumentContentChangeWholeDocument(CLEAN)])
    )
    assert cleared == []
    # type `lora` back over `sft` on line 3, as an editor sends a keystroke's change
    edit = types.TextDocumentContentChangePartial(rng(2, 8, 11), "lora")
    (again,) = await diagnostics_after(client, [uri], change(client, uri, 3, [edit]))
    assert [(d.code, d.range) for d in again] == [("PFT102", rng(2, 7, 13)), ("PFT102", rng(6, 54, 58))]


@pytest.mark.asyncio
async def test_a_syntax_error_clears_diagnostics_and_is_logged(client: LanguageClient, tmp_path: Path) -> None:
    uri, found = await open_file(client, tmp_path, BAD)
    assert found
    broken = BAD.replace("def build(base, config):", "def build(base, config")
    (cleared,) = await diagnostics_after(
        client, [uri], change(client, uri, 2, [types.TextDocumentContentChangeWholeDocument(broken)])
    )
    assert cleared == []
    await until(lambda: any("not checked: syntax error at line 6" in m.message for m in client.log_messages), "log")
    (back,) = await diagnostics_after(
        client, [uri], change(client, uri, 3, [types.TextDocumentContentChangeWholeDocument(BAD)])
    )
    assert len(back) == 3


@pytest.mark.asyncio
async def test_utf16_columns(client: LanguageClient, tmp_path: Path) -> None:
    text = BAD.replace('load_adapter("x"', 'load_adapter("🤗"')  # one character, two UTF-16 code units
    text = text.replace('"lora"', '"sft"')  # "to" is the only finding
    uri, found = await open_file(client, tmp_path, text)
    assert [d.range for d in found if d.code == "PFT101"] == [rng(7, 42, 46)]
    (action,) = [a for a in await actions_at(client, uri, rng(7, 43, 43)) if a.title.startswith("Fix")]
    assert apply(text, action.edit.changes[uri]) == cli_fix(tmp_path, "train.py", text, "--unsafe-fixes")


# ---------------------------------------------------------------------------------------------
# Code actions


SINGLE_FIXES = {
    "literal": (
        'from peft import PeftModel\nm = PeftModel.from_pretrained(b, "p", adapter_name="to")\n', rng(1, 52, 52)
    ),
    "constant, at its use": (BAD.replace('adapter_name="to"', 'adapter_name="ref"'), rng(6, 56, 56)),
    "constant, at its definition": (BAD.replace('adapter_name="to"', 'adapter_name="ref"'), rng(2, 9, 9)),
    "state dict, with an import": (STATE_DICT, rng(5, 20, 20)),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", sorted(SINGLE_FIXES))
async def test_quick_fix_writes_what_check_fix_writes(client: LanguageClient, tmp_path: Path, case: str) -> None:
    text, where = SINGLE_FIXES[case]
    uri, found = await open_file(client, tmp_path, text)
    assert found
    fixes = [a for a in await actions_at(client, uri, where) if a.title.startswith("Fix")]
    assert len(fixes) == 1, [a.title for a in fixes]
    (fix,) = fixes
    assert fix.kind == types.CodeActionKind.QuickFix
    assert fix.title.endswith("(unsafe fix)")  # every fix of today's rules is unsafe
    assert fix.diagnostics and fix.diagnostics[0].code == found[0].code or fix.diagnostics[0] in found
    fixed = apply(text, fix.edit.changes[uri])
    assert fixed != text
    assert fixed == cli_fix(tmp_path, "train.py", text, "--unsafe-fixes")


@pytest.mark.asyncio
async def test_quick_fixes_one_after_another_write_what_check_fix_writes(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri, found = await open_file(client, tmp_path, BAD)
    text, version = BAD, 1
    while True:
        fixes = [a for a in await actions_at(client, uri, WHOLE) if a.title.startswith("Fix")]
        if not fixes:
            break
        text = apply(text, fixes[0].edit.changes[uri])
        version += 1
        await diagnostics_after(
            client, [uri], change(client, uri, version, [types.TextDocumentContentChangeWholeDocument(text)])
        )
    assert version == 3  # two fixes: the constant's and "to"
    assert text == cli_fix(tmp_path, "train.py", BAD, "--unsafe-fixes")


@pytest.mark.asyncio
async def test_fixes_are_resolved_when_picked(resolve_client: LanguageClient, tmp_path: Path) -> None:
    """A client that resolves code actions gets the fix's edit (LibCST's slow part) only for the one picked."""
    text, where = SINGLE_FIXES["state dict, with an import"]
    uri, found = await open_file(resolve_client, tmp_path, text)
    listed = await actions_at(resolve_client, uri, where)
    (fix,) = [a for a in listed if a.title.startswith("Fix")]
    assert fix.edit is None and fix.data is not None
    assert all(a.edit is not None for a in listed if "noqa" in a.title)  # cheap: always there
    resolved = await resolve_client.code_action_resolve_async(fix)
    assert apply(text, resolved.edit.changes[uri]) == cli_fix(tmp_path, "train.py", text, "--unsafe-fixes")
    edited = text + "\n"
    await diagnostics_after(
        resolve_client, [uri], change(resolve_client, uri, 2, [types.TextDocumentContentChangeWholeDocument(edited)])
    )
    stale = await resolve_client.code_action_resolve_async(fix)
    assert stale.edit is None  # the buffer changed since the action was listed: no edit from an old check


@pytest.mark.asyncio
async def test_noqa_action_appends_to_an_existing_list_or_adds_a_comment(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri, found = await open_file(client, tmp_path, BAD)
    (to_noqa,) = [a for a in await actions_at(client, uri, rng(7, 42, 42)) if "noqa" in a.title]
    assert to_noqa.title == "Add `# noqa: PFT101` to line 8"
    text = apply(BAD, to_noqa.edit.changes[uri])
    assert text.splitlines()[7] == '    model.load_adapter("x", adapter_name="to")  # noqa: E501, PFT101'
    (name_noqa,) = [a for a in await actions_at(client, uri, rng(2, 9, 9)) if "noqa" in a.title]
    text = apply(text, name_noqa.edit.changes[uri])
    assert text.splitlines()[2] == 'NAME = "lora"  # noqa: PFT102'
    (left,) = await diagnostics_after(
        client, [uri], change(client, uri, 2, [types.TextDocumentContentChangeWholeDocument(text)])
    )
    assert [(d.code, d.range.start.line) for d in left] == [("PFT102", 6)]  # the use is on its own line


@pytest.mark.asyncio
async def test_fix_all_applies_the_safe_fixes_as_check_fix_does(safe_client: LanguageClient, tmp_path: Path) -> None:
    uri, found = await open_file(safe_client, tmp_path, BAD)
    (fix_all,) = await actions_at(safe_client, uri, rng(0, 0, 0), only=["source.fixAll"])
    assert fix_all.kind == "source.fixAll.flake8-peft-names"
    fixed = apply(BAD, fix_all.edit.changes[uri])
    from flake8_peft_names import cli

    original = plant("safe")  # the same test double in this process, for the CLI
    try:
        copy = tmp_path / "copy.py"
        copy.write_text(BAD)
        cli.main(["check", "--fix", "-j", "1", "--config", str(tmp_path / "setup.cfg"), str(copy)])
    finally:
        restore(original)
    assert fixed == copy.read_text() != BAD
    assert all(not a.title.endswith("(unsafe fix)") for a in await actions_at(safe_client, uri, rng(7, 42, 42)))


@pytest.mark.asyncio
async def test_no_fix_all_without_safe_fixes(client: LanguageClient, tmp_path: Path) -> None:
    uri, found = await open_file(client, tmp_path, BAD)
    assert await actions_at(client, uri, WHOLE, only=["source.fixAll"]) == []


# ---------------------------------------------------------------------------------------------
# Configuration


@pytest.mark.asyncio
async def test_config_changes_are_read_again(client: LanguageClient, tmp_path: Path) -> None:
    config = tmp_path / "setup.cfg"
    config.write_text("[flake8]\nextend-ignore = PFT101\n")
    uri, found = await open_file(client, tmp_path, BAD)
    assert {d.code for d in found} == {"PFT102"}
    # the peft version range, as the CLI reads it: PFT102's hazard is gone from peft 0.18 on
    config.write_text("[flake8]\npeft-version = >=0.18\n")
    event = types.FileEvent(config.as_uri(), types.FileChangeType.Changed)
    notify = lambda: client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams([event]))  # noqa: E731
    (after,) = await diagnostics_after(client, [uri], notify)
    assert {d.code for d in after} == {"PFT101"}
    # no notification: the next check sees the file's new mtime
    config.write_text("[flake8]\nselect = PFT102\n")
    os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 10**9))
    (again,) = await diagnostics_after(
        client, [uri], change(client, uri, 2, [types.TextDocumentContentChangeWholeDocument(BAD + "\n")])
    )
    assert {d.code for d in again} == {"PFT102"}


# ---------------------------------------------------------------------------------------------
# Pull diagnostics


@pytest.mark.asyncio
async def test_pull_diagnostics(pull_client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(BAD)
    uri = path.as_uri()
    pull_client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, BAD)))
    ask = types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri))
    report = await pull_client.text_document_diagnostic_async(ask)
    assert report.kind == "full"
    assert sorted(d.code for d in report.items) == ["PFT101", "PFT102", "PFT102"]
    again = await pull_client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri), previous_result_id=report.result_id)
    )
    assert again.kind == "unchanged" and again.result_id == report.result_id
    assert uri not in pull_client.diagnostics  # nothing pushed to a client that pulls
    (watch,) = pull_client.registered  # type: ignore[attr-defined]
    assert watch.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    assert watch.register_options["watchers"][0]["globPattern"] == "**/{setup.cfg,tox.ini,.flake8}"
    (tmp_path / "setup.cfg").write_text("[flake8]\nextend-ignore = PFT1\n")
    event = types.FileEvent((tmp_path / "setup.cfg").as_uri(), types.FileChangeType.Changed)
    pull_client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams([event]))
    await until(lambda: pull_client.diagnostic_refresh_count > 0, "workspace/diagnostic/refresh")
    changed = await pull_client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri), previous_result_id=report.result_id)
    )
    assert changed.kind == "full" and list(changed.items) == []


# ---------------------------------------------------------------------------------------------
# A bug in the engine


@pytest.mark.asyncio
async def test_an_engine_bug_is_logged_and_the_server_goes_on(bug_client: LanguageClient, tmp_path: Path) -> None:
    planted = BAD + f'MARK = "{PLANTED}"\n'
    uri, found = await open_file(bug_client, tmp_path, planted, "broken.py")
    assert found == []
    await until(
        lambda: any(m.type == types.MessageType.Error and "planted bug" in m.message for m in bug_client.log_messages),
        "the engine's error in window/logMessage",
    )
    other, still = await open_file(bug_client, tmp_path, BAD, "fine.py")
    assert len(still) == 3
    assert await actions_at(bug_client, uri, rng(7, 42, 42)) == []
    assert await actions_at(bug_client, uri, rng(6, 55, 55)) == []
    errors = [m for m in bug_client.log_messages if "planted bug" in m.message]
    assert len(errors) == 1  # once per failing text, not once per request
    (cured,) = await diagnostics_after(
        bug_client, [uri], change(bug_client, uri, 2, [types.TextDocumentContentChangeWholeDocument(BAD)])
    )
    assert len(cured) == 3


# ---------------------------------------------------------------------------------------------
# Notebook documents


NOTEBOOK_CELLS = [
    (types.NotebookCellKind.Code, 'from peft import get_peft_model\n\nNAME = "lora"'),
    (types.NotebookCellKind.Markup, "# The model"),
    (types.NotebookCellKind.Code, "%matplotlib inline\nmodel = get_peft_model(base, config, adapter_name=NAME)"),
]


def notebook_opened(path: Path) -> tuple[list[str], types.DidOpenNotebookDocumentParams]:
    cell_uris = [f"vscode-notebook-cell:{path}#W{i}" for i in range(len(NOTEBOOK_CELLS))]
    notebook = types.NotebookDocument(
        path.as_uri(),
        "jupyter-notebook",
        1,
        [types.NotebookCell(kind, uri) for (kind, _), uri in zip(NOTEBOOK_CELLS, cell_uris)],
    )
    items = [
        types.TextDocumentItem(uri, "python" if kind == types.NotebookCellKind.Code else "markdown", 1, text)
        for (kind, text), uri in zip(NOTEBOOK_CELLS, cell_uris)
    ]
    return cell_uris, types.DidOpenNotebookDocumentParams(notebook, items)


@pytest.mark.asyncio
async def test_notebook_cells_pulled(pull_client: LanguageClient, tmp_path: Path) -> None:
    cell_uris, opened = notebook_opened(tmp_path / "train.ipynb")
    pull_client.notebook_document_did_open(opened)
    ask = types.DocumentDiagnosticParams(types.TextDocumentIdentifier(cell_uris[2]))
    report = await pull_client.text_document_diagnostic_async(ask)
    assert [(d.code, d.range) for d in report.items] == [("PFT102", rng(1, 50, 54))]
    assert report.items[0].related_information[0].location == types.Location(cell_uris[0], rng(2, 7, 13))


@pytest.mark.asyncio
async def test_notebook_cells(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "train.ipynb"
    cell_uris, opened = notebook_opened(path)
    send = lambda: client.notebook_document_did_open(opened)  # noqa: E731
    first, markdown, last = await diagnostics_after(client, cell_uris, send)
    assert [(d.code, d.range) for d in first] == [("PFT102", rng(2, 7, 13))]
    assert markdown == []
    assert [(d.code, d.range) for d in last] == [("PFT102", rng(1, 50, 54))]
    assert last[0].related_information[0].location == types.Location(cell_uris[0], rng(2, 7, 13))
    assert "cell 3 line 2" in first[0].message

    (fix,) = [a for a in await actions_at(client, cell_uris[2], rng(1, 51, 51)) if a.title.startswith("Fix")]
    fixed = [apply(text, fix.edit.changes.get(uri, [])) for (_, text), uri in zip(NOTEBOOK_CELLS, cell_uris)]
    ipynb = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": text}
            if kind == types.NotebookCellKind.Code
            else {"cell_type": "markdown", "metadata": {}, "source": text}
            for kind, text in NOTEBOOK_CELLS
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    written = cli_fix(tmp_path, "train.ipynb", json.dumps(ipynb, indent=1), "--unsafe-fixes")
    assert fixed == ["".join(cell["source"]) for cell in json.loads(written)["cells"]]
    assert fixed[0].endswith('NAME = "adapter_lora"') and fixed[2] == NOTEBOOK_CELLS[2][1]

    (noqa,) = [a for a in await actions_at(client, cell_uris[0], rng(2, 8, 8)) if "noqa" in a.title]
    assert apply(NOTEBOOK_CELLS[0][1], noqa.edit.changes[cell_uris[0]]).endswith('NAME = "lora"  # noqa: PFT102')
