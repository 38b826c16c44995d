"""Where a fixed file goes: a unified diff (`--diff`), stdout (`--fix` of stdin) or an atomic write."""
from __future__ import annotations

import difflib
import os
import stat
import tempfile
from pathlib import Path

from .results import FileResult
from .rule import Finding

STDIN = "-"


def deliver(result: FileResult, path: str, mode: str, old: bytes, new: bytes, remaining: list[Finding]) -> bool:
    """Hand the fixed bytes of `path` over as `mode` asks. True when the fix took effect; `result` then
    counts what was fixed and keeps only the `remaining` findings."""
    if mode == "diff":
        result.diff = unified_diff(result.path, old, new)
        return False
    if path == STDIN:
        result.fixed_source = new
    else:
        try:
            write_atomically(Path(path), new)
        except OSError as error:
            result.error = "; ".join(filter(None, [result.error, f"cannot write: {error.strerror or error}"]))
            return False
    result.fixed = len(result.findings) - len(remaining)
    result.findings = remaining
    return True


def unified_diff(path: str, old: bytes, new: bytes) -> bytes:
    """The diff as GNU diff writes it, so `patch` and `git apply` take it: bytes in the file's own encoding,
    lines ending only at `\\n` (a form feed or U+2028 ends none), a missing last newline marked."""
    name = os.path.normpath(path).encode("utf-8", "surrogateescape")  # `./x.py` would make git apply refuse
    lines = difflib.diff_bytes(
        difflib.unified_diff, _lines(old), _lines(new), b"a/" + name, b"b/" + name, lineterm=b"\n"
    )
    return b"".join(line if line.endswith(b"\n") else line + b"\n\\ No newline at end of file\n" for line in lines)


def _lines(raw: bytes) -> list[bytes]:
    parts = raw.split(b"\n")
    return [part + b"\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it over: readers see old or new, never half."""
    mode = path.stat().st_mode
    if not mode & stat.S_IWUSR:
        raise PermissionError(13, "file is read-only")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, stat.S_IMODE(mode))
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
