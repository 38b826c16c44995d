"""The progress bar of long runs: redrawn every `every` steps and at the last one, then cleared."""
from __future__ import annotations

import io

from flake8_peft_names.progress import Progress


def test_redrawn_every_n_steps_and_at_the_end() -> None:
    stream = io.StringIO()
    bar = Progress(120, "files", every=50, stream=stream)
    for _ in range(120):
        bar.step()
    drawn = [part.split("] ")[1] for part in stream.getvalue().split("\r") if "] " in part]
    assert drawn == ["50/120 files", "100/120 files", "120/120 files"]
    bar.close()
    assert stream.getvalue().endswith("\r" + " " * 60 + "\r")


def test_the_bar_fills_with_the_share_done() -> None:
    stream = io.StringIO()
    bar = Progress(4, "adapters", stream=stream)
    bar.step()
    assert stream.getvalue() == "\r[" + "#" * 7 + "." * 23 + "] 1/4 adapters"
