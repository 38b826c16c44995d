"""An editor's view: a real python-lsp-server (pylsp) process, driven over stdio with the Language
Server Protocol, lints unsaved buffers with flake8 and publishes PFT diagnostics."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

pytestmark = pytest.mark.prepush  # tier (tests/conftest.py)

WAIT = 60  # seconds for any one answer; pylsp debounces linting by 0.5 s, then runs flake8

BAD = (
    "from peft import get_peft_model\n\n\n"
    "def build(base, config):\n"
    '    return get_peft_model(base, config, adapter_name="lora")\n'
)
CLEAN = BAD.replace('"lora"', '"sft"')


class LanguageServer:
    """A minimal LSP client: Content-Length framed JSON-RPC over the server's stdin and stdout."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.messages: queue.Queue = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self.process.stderr.read, daemon=True).start()  # never let stderr fill up

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            headers = {}
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            self.messages.put(json.loads(body))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: Optional[dict]) -> Any:
        self.next_id += 1
        number = self.next_id
        self.send({"id": number, "method": method, "params": params})
        answer = self.wait_for(lambda m: m.get("id") == number and "method" not in m)
        assert "error" not in answer, answer
        return answer.get("result")

    def wait_for(self, wanted: Callable[[dict], bool]) -> dict:
        deadline = time.monotonic() + WAIT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no answer from the language server within {WAIT} s")
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if "method" in message and "id" in message:  # a request from the server: answer it
                self.send({"id": message["id"], "result": None})
            if wanted(message):
                return message

    def diagnostics(self, uri: str, version: int) -> list[dict]:
        message = self.wait_for(
            lambda m: m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri
            and m["params"].get("version") == version
        )
        return message["params"]["diagnostics"]

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                self.request("shutdown", None)
                self.notify("exit", {})
                self.process.wait(timeout=10)
        except (AssertionError, OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LanguageServer]:
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "user-config"), HOME=str(tmp_path / "home"))
    lsp = LanguageServer([sys.executable, "-m", "pylsp"], tmp_path, env)
    try:
        settings = {
            "plugins": {
                "flake8": {"enabled": True, "executable": str(Path(sys.executable).with_name("flake8"))},
                "pycodestyle": {"enabled": False},
                "pyflakes": {"enabled": False},
                "mccabe": {"enabled": False},
            }
        }
        lsp.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": tmp_path.as_uri(),
                "capabilities": {"textDocument": {"publishDiagnostics": {"versionSupport": True}}},
                "initializationOptions": {"pylsp": settings},
            },
        )
        lsp.notify("initialized", {})
        lsp.notify("workspace/didChangeConfiguration", {"settings": {"pylsp": settings}})
        yield lsp
    finally:
        lsp.close()


def test_unsaved_buffer_gets_pft_diagnostics_at_the_literal_and_none_once_clean(
    server: LanguageServer, tmp_path: Path
) -> None:
    path = tmp_path / "train.py"  # never written: the editor's buffer is all there is
    uri = path.as_uri()
    server.notify(
        "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": BAD}}
    )
    diagnostics = server.diagnostics(uri, version=1)
    line = BAD.splitlines(keepends=True)[4]
    start = line.index('"lora"')
    assert [d["code"] for d in diagnostics] == ["PFT102"]
    diagnostic = diagnostics[0]
    assert diagnostic["source"] == "flake8"
    assert diagnostic["message"].startswith("PFT102 adapter name 'lora' is inside LoRA's parameter prefix 'lora_'")
    # flake8 reports a start only, so pylsp's flake8 plugin underlines from there to the end of the line:
    # the range starts exactly at the literal's opening quote and covers the literal.
    assert diagnostic["range"] == {
        "start": {"line": 4, "character": start},
        "end": {"line": 4, "character": len(line)},
    }
    assert diagnostic["range"]["end"]["character"] >= start + len('"lora"')
    assert not path.exists()

    server.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": CLEAN}]},
    )
    assert server.diagnostics(uri, version=2) == []


def test_clean_buffer_gets_no_diagnostics(server: LanguageServer, tmp_path: Path) -> None:
    uri = (tmp_path / "pkg" / "clean.py").as_uri()
    server.notify(
        "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": CLEAN}}
    )
    assert server.diagnostics(uri, version=1) == []
