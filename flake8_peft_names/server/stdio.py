"""The server's stdio loop: pygls's own (`pygls.io_.run_async`, as `LanguageServer.start_io` runs it) with a
reader that hands over the messages already arrived without yielding to the event loop.

pygls's reader reads every header line and body in a worker thread, so the event loop runs between any two
messages. With this one the handlers of all the messages that have arrived run first, and only then what
they scheduled with `call_soon`: a burst of changes is checked once, an isolated change at once."""
from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from typing import BinaryIO, Callable, Optional

from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer

logger = logging.getLogger(__name__)
CHUNK = 1 << 16
# After this many reads answered in a row without waiting, the reader yields once anyway: a client that never pauses
# must not starve what the handlers scheduled.
RUN = 64


class ArrivedReader:
    """pygls's AsyncReader over `stream`, which a daemon thread reads into a buffer as bytes arrive."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._buffer = bytearray()
        self._ended = False
        self._lock = threading.Lock()
        self._waiter: Optional[asyncio.Future[None]] = None
        self._thread: Optional[threading.Thread] = None
        self._run = 0  # reads answered since the reader last yielded to the event loop

    async def readline(self) -> bytes:
        return await self._take(lambda: self._buffer.find(b"\n") + 1)

    async def readexactly(self, n: int) -> bytes:
        return await self._take(lambda: n if len(self._buffer) >= n else 0)

    async def _take(self, size: Callable[[], int]) -> bytes:
        """The first `size()` bytes of the buffer once `size()` is not 0; at the end of the stream, what is left."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._pump, name="stdin", daemon=True)
            self._thread.start()
        self._run += 1
        if self._run > RUN:
            self._run = 0
            await asyncio.sleep(0)
        while True:
            with self._lock:
                count = size() or (len(self._buffer) if self._ended else 0)
                if count or self._ended:
                    taken = bytes(self._buffer[:count])
                    del self._buffer[:count]
                    return taken
                waiter = self._waiter = asyncio.get_running_loop().create_future()
            self._run = 0
            await waiter

    def _pump(self) -> None:
        read = self._reader()
        while True:
            try:
                chunk = read()
            except (OSError, ValueError):  # the stream closed under us: its end
                chunk = b""
            with self._lock:
                self._buffer += chunk
                self._ended = not chunk
                waiter, self._waiter = self._waiter, None
            if waiter is not None:
                try:
                    waiter.get_loop().call_soon_threadsafe(_wake, waiter)
                except RuntimeError:  # the loop has closed: the server is gone
                    return
            if not chunk:
                return

    def _reader(self) -> Callable[[], bytes]:
        """Reads of the file descriptor itself where there is one: a read of the buffered stream holds its
        lock, and Python, ending while this thread waits in one, would abort (it closes sys.stdin)."""
        try:
            fd = self._stream.fileno()
        except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is both
            return lambda: self._stream.read1(CHUNK)  # type: ignore[attr-defined,no-any-return]
        return lambda: os.read(fd, CHUNK)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def serve_stdio(server: LanguageServer) -> None:
    """`server.start_io()`, with ArrivedReader as the reader (what pygls's `_start_io_async` does)."""
    server._stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    reader = ArrivedReader(sys.stdin.buffer)
    try:
        asyncio.run(
            run_async(server._stop_event, reader, server.protocol, logger, error_handler=server.report_server_error)
        )
    except BrokenPipeError:
        logger.error("Connection to the client is lost! Shutting down the server.")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()
