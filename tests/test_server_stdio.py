"""The server's stdio reader (flake8_peft_names/server/stdio.py): in-process, what has arrived is handed over
without yielding to the event loop and what has not is waited for; end to end, a burst of changes that has
arrived is checked once."""
from __future__ import annotations

import asyncio
import io
import json
import os
import queue
import subprocess
import threading
from pathlib import Path
from typing import IO

import pytest

from flake8_peft_names.server.stdio import RUN, ArrivedReader
from tests.test_server import BAD, CLEAN, ENV, SERVER, WAIT


def message(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def read_message(reader: ArrivedReader) -> bytes:
    header = await reader.readline()
    assert header.startswith(b"Content-Length: ")
    assert await reader.readline() == b"\r\n"
    return await reader.readexactly(int(header.split(b":")[1]))


def test_arrived_messages_are_handed_over_before_the_loop_runs_callbacks() -> None:
    bodies = [b'{"n": %d}' % n for n in range(5)]

    async def run() -> None:
        reader = ArrivedReader(io.BytesIO(b"".join(message(b) for b in bodies)))
        assert await read_message(reader) == bodies[0]  # waits for the reader's thread: everything has arrived
        ran: list[str] = []
        asyncio.get_running_loop().call_soon(ran.append, "check")
        assert [await read_message(reader) for _ in bodies[1:]] == bodies[1:]
        assert ran == []  # scheduled by the first message's handler, run after the messages that had arrived
        assert await reader.readline() == b""  # the end of the stream
        await asyncio.sleep(0)
        assert ran == ["check"]

    asyncio.run(run())


def test_what_has_not_arrived_is_waited_for() -> None:
    read, write = os.pipe()
    body = b'{"jsonrpc": "2.0"}'
    whole = message(body)

    async def run() -> None:
        with os.fdopen(read, "rb") as stream:
            reader = ArrivedReader(stream)
            os.write(write, whole[:30])  # the header and part of the body
            assert await reader.readline() == whole[: whole.index(b"\r\n") + 2]
            assert await reader.readline() == b"\r\n"
            pending = asyncio.ensure_future(reader.readexactly(len(body)))
            await asyncio.sleep(0.05)
            assert not pending.done()
            os.write(write, whole[30:])
            assert await asyncio.wait_for(pending, 10) == body
            os.close(write)
            assert await asyncio.wait_for(reader.readline(), 10) == b""

    asyncio.run(run())


def test_a_client_that_never_pauses_does_not_starve_the_loop() -> None:
    async def run() -> None:
        reader = ArrivedReader(io.BytesIO(b"line\n" * (3 * RUN)))
        await reader.readline()
        ran: list[int] = []
        loop = asyncio.get_running_loop()
        loop.call_soon(lambda: ran.append(read))
        for read in range(1, 3 * RUN):
            assert await reader.readline() == b"line\n"
        assert ran and ran[0] <= RUN

    asyncio.run(run())


def _frames(stream: IO[bytes], into: "queue.Queue[dict]") -> None:
    while True:
        length = 0
        for header in iter(stream.readline, b"\r\n"):  # the header lines, up to an empty one
            if not header:
                return
            name, _, value = header.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        into.put(json.loads(stream.read(length)))


@pytest.mark.prepush
def test_a_burst_of_changes_that_has_arrived_is_checked_once(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[flake8]\nmax-line-length = 120\n")
    uri = (tmp_path / "train.py").as_uri()
    document = {"uri": uri, "languageId": "python", "version": 1, "text": BAD}
    burst = [
        {"id": 1, "method": "initialize", "params": {"capabilities": {}, "rootUri": tmp_path.as_uri()}},
        {"method": "initialized", "params": {}},
        {"method": "textDocument/didOpen", "params": {"textDocument": document}},
        *(
            {
                "method": "textDocument/didChange",
                "params": {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
            }
            for version, text in [(2, CLEAN), (3, BAD.replace('"to"', '"ref"')), (4, CLEAN)]
        ),
    ]
    server = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=ENV)
    assert server.stdin and server.stdout
    received: "queue.Queue[dict]" = queue.Queue()
    threading.Thread(target=_frames, args=(server.stdout, received), daemon=True).start()
    try:
        # in one write, before the server (still starting) reads any of it
        server.stdin.write(b"".join(message(json.dumps({"jsonrpc": "2.0", **m}).encode()) for m in burst))
        server.stdin.flush()
        published = []
        while not published or published[-1]["version"] != 4:
            sent = received.get(timeout=WAIT)
            if sent.get("method") == "textDocument/publishDiagnostics":
                published.append(sent["params"])
        assert [(p["version"], len(p["diagnostics"])) for p in published] == [(1, 3), (4, 0)]
        for m in [{"id": 2, "method": "shutdown"}, {"method": "exit"}]:
            server.stdin.write(message(json.dumps({"jsonrpc": "2.0", **m}).encode()))
        server.stdin.close()
        assert server.wait(WAIT) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


@pytest.mark.prepush
def test_exit_ends_the_server_while_the_client_keeps_stdin_open() -> None:
    """The reader's thread waits in a read of stdin when `exit` ends the server: Python must not abort
    (a read of the buffered sys.stdin would hold its lock, which Python's shutdown takes; pygls's own
    reader ends so, with a fatal error)."""
    server = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    assert server.stdin and server.stderr
    try:
        for m in [
            {"id": 1, "method": "initialize", "params": {"capabilities": {}}},
            {"method": "initialized", "params": {}},
            {"id": 2, "method": "shutdown"},
            {"method": "exit"},
        ]:
            server.stdin.write(message(json.dumps({"jsonrpc": "2.0", **m}).encode()))
        server.stdin.flush()
        assert server.wait(WAIT) == 0
        assert b"Fatal Python error" not in server.stderr.read()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdin.close()
