"""Reading a source file into text and an `ast`, with a one-line reason when that is impossible."""
from __future__ import annotations

import ast
import codecs
import io
import tokenize
import warnings
from dataclasses import dataclass
from typing import Callable, Optional

from .errors import one_line


class SourceError(Exception):
    """The file cannot be read, decoded or parsed; str() is a one-line reason."""


class ParseError(SourceError):
    """Python cannot parse the text; `line` is where (None when Python does not say), `reason` why."""

    def __init__(self, text: str, line: Optional[int] = None, reason: str = "") -> None:
        super().__init__(text)
        self.line, self.reason = line, reason


@dataclass(frozen=True)
class SourceFile:
    raw: bytes
    text: str
    lines: list[str]  # physical lines with their endings, as flake8 hands them to plugins
    tree: ast.Module


def decode(raw: bytes) -> str:
    """Decode as Python does: BOM, then a coding cookie, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as error:
        if raw.startswith(codecs.BOM_UTF8) and str(error).startswith("encoding problem"):
            reason = "the file starts with a UTF-8 BOM but its coding cookie names another encoding"
            raise SourceError(f"cannot decode: {reason}") from None
        raise SourceError(f"cannot decode: {one_line(error)}") from None
    try:
        text = raw.decode(encoding)
    except (LookupError, UnicodeError) as error:
        # LookupError: a cookie naming a codec that is no text encoding (rot13, hex, ...); UnicodeError:
        # UnicodeDecodeError, and the bare UnicodeError of the punycode, idna and undefined codecs
        raise SourceError(f"cannot decode: {one_line(error)}") from None
    return text[1:] if text.startswith("\ufeff") else text


def parse(text: str, filename: str = "<unknown>", flags: int = 0) -> ast.Module:
    """The `ast` of `text` (compiled with the extra `flags`), or a ParseError saying why there is none."""
    try:
        return quiet_parse(text, filename, flags)
    except SyntaxError as error:
        reason = one_line(error.msg)
        where = f" at line {error.lineno}" if error.lineno else ""  # null bytes: no line (Python >= 3.11.4)
        raise ParseError(f"syntax error{where}: {reason}", error.lineno or None, reason) from None
    except ValueError as error:  # null bytes before Python 3.11.4; lone surrogates (`# coding: unicode_escape`)
        raise ParseError(f"cannot parse: {one_line(error)}") from None
    except (RecursionError, MemoryError):
        raise ParseError("cannot parse: too deeply nested") from None


def quiet_parse(text: str, filename: str = "<unknown>", flags: int = 0) -> ast.Module:
    """ast.parse without the warnings it prints about the code (invalid escapes: SyntaxWarning on Python
    3.12+, shown by default), which are no business of a linter of adapter names."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = compile(text, filename, "exec", ast.PyCF_ONLY_AST | flags, dont_inherit=True)
    assert isinstance(tree, ast.Module)
    return tree


def physical_lines(text: str) -> list[str]:
    """Lines with their endings, split where Python and flake8 end a line (`\\r\\n`, `\\r`, `\\n`) and not
    at the form feeds, `\\x85` and Unicode line separators that str.splitlines() also splits at."""
    return io.StringIO(text, newline="").readlines()


Parser = Callable[[str, str], ast.Module]  # (text, filename) -> its `ast`, as `parse`


def read_source(raw: bytes, filename: str, parser: Parser = parse) -> SourceFile:
    text = decode(raw)
    return SourceFile(raw, text, physical_lines(text), parser(text, filename))
