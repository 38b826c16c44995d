"""Reading a file into text and an `ast`, with a one-line reason when that is impossible."""
from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass


class SourceError(Exception):
    """The file cannot be read, decoded or parsed; str() is a one-line reason."""


@dataclass(frozen=True)
class Source:
    raw: bytes
    text: str
    lines: list[str]  # with line endings, as flake8 hands them to plugins
    tree: ast.Module


def decode(raw: bytes) -> str:
    """Decode as Python does: BOM, then a coding cookie, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise SourceError(f"cannot decode: {error}") from None
    return text[1:] if text.startswith("\ufeff") else text


def parse(text: str, filename: str = "<unknown>") -> ast.Module:
    try:
        return ast.parse(text, filename)
    except SyntaxError as error:
        raise SourceError(f"syntax error at line {error.lineno}: {error.msg}") from None
    except ValueError as error:  # null bytes
        raise SourceError(f"cannot parse: {error}") from None
    except (RecursionError, MemoryError):
        raise SourceError("cannot parse: too deeply nested") from None


def read_source(raw: bytes, filename: str) -> Source:
    text = decode(raw)
    return Source(raw, text, text.splitlines(keepends=True), parse(text, filename))
