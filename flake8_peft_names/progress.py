"""The one-line progress bar of long runs (`check` over many files, `doctor` over many adapters)."""
from __future__ import annotations

import sys
from typing import Optional, Protocol


class Stream(Protocol):
    def write(self, text: str) -> object: ...

    def flush(self) -> None: ...


class Progress:
    """`done/total unit` on one line of `stream` (stderr: callers show it on terminals only), redrawn every
    `every` steps and at the last one."""

    WIDTH = 30

    def __init__(self, total: int, unit: str, every: int = 1, stream: Optional[Stream] = None) -> None:
        self.total, self.unit, self.every, self.done = total, unit, every, 0
        self.stream: Stream = stream if stream is not None else sys.stderr

    def step(self) -> None:
        self.done += 1
        if self.done == self.total or self.done % self.every == 0:
            filled = self.WIDTH * self.done // max(self.total, 1)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {self.unit}")
            self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r" + " " * 60 + "\r")
        self.stream.flush()
